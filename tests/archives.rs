//! Hostile sdists are read as archives only: bounded, never extracted, links never followed,
//! nothing run.

mod support;

use support::*;

const SLIM: &str = "python:3.12-slim-trixie";

/// A .tar.gz sdist built member by member, so tests can put anything in it.
fn tar_gz(members: &[(&str, tar::EntryType, &[u8], Option<&str>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::best(),
    ));
    for (path, kind, data, link) in members {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(*kind);
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        if let Some(link) = link {
            header.set_link_name(link).unwrap();
        }
        // Written into the header by hand: the tar crate refuses to build `..` paths, which is
        // exactly what a hostile archive has.
        let name = &mut header.as_old_mut().name;
        name.fill(0);
        name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_cksum();
        builder.append(&header, *data).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

fn sdist(bytes: Vec<u8>) -> IndexFile {
    IndexFile::from(support::dist::Built::from_bytes("evil-1.0.tar.gz", bytes))
}

#[test]
fn a_tar_bomb_is_stopped_and_the_target_is_not_fine() {
    // 600 MiB of zeros compress to well under a megabyte.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut builder = tar::Builder::new(&mut encoder);
    let mut header = tar::Header::new_gnu();
    header.set_size(600 << 20);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(
            &mut header,
            "evil-1.0/zeros.bin",
            std::io::repeat(0).take_bytes(600 << 20),
        )
        .unwrap();
    builder.finish().unwrap();
    drop(builder);
    let bytes = encoder.finish().unwrap();
    assert!(bytes.len() < 2 << 20);
    let world = World::new(vec![("evil", vec![sdist(bytes)])]);
    let run = world.run_json("evil\n", &[SLIM]);
    let report = run.json();
    let target = target(&report, SLIM, "x86_64");
    assert_ne!(target["verdict"], "works", "{target:#}");
    assert_eq!(run.code, 3, "{}", run.stderr);
}

#[test]
fn a_symlinked_pkg_info_is_not_followed() {
    let bytes = tar_gz(&[
        (
            "evil-1.0/PKG-INFO",
            tar::EntryType::Symlink,
            b"",
            Some("/etc/passwd"),
        ),
        (
            "evil-1.0/setup.py",
            tar::EntryType::Regular,
            b"import os; os.system('touch /tmp/wheelcheck-pwned')",
            None,
        ),
    ]);
    let world = World::new(vec![("evil", vec![sdist(bytes)])]);
    let run = world.run_json("evil\n", &[SLIM]);
    let report = run.json();
    let target = target(&report, SLIM, "x86_64");
    let error = target["resolution"]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("no PKG-INFO"),
        "the link was followed or the error is unclear: {target:#}"
    );
    assert!(
        !std::path::Path::new("/tmp/wheelcheck-pwned").exists(),
        "setup.py was run"
    );
    assert_eq!(run.code, 3);
}

#[test]
fn path_traversal_and_nested_archives_are_only_read_never_written() {
    let nested = tar_gz(&[(
        "inner/PKG-INFO",
        tar::EntryType::Regular,
        b"Name: inner\nVersion: 9\n",
        None,
    )]);
    let bytes = tar_gz(&[
        (
            "evil-1.0/PKG-INFO",
            tar::EntryType::Regular,
            b"Metadata-Version: 2.2\nName: evil\nVersion: 1.0\n",
            None,
        ),
        (
            "../../../../tmp/wheelcheck-escape",
            tar::EntryType::Regular,
            b"escaped",
            None,
        ),
        (
            "evil-1.0/vendor/inner.tar.gz",
            tar::EntryType::Regular,
            &nested,
            None,
        ),
    ]);
    let world = World::new(vec![("evil", vec![sdist(bytes)])]);
    let run = world.run_json("evil\n", &[SLIM]);
    let evil = package(&run.json(), SLIM, "x86_64", "evil").clone();
    assert_eq!(evil["kind"], "sdist");
    assert_eq!(
        evil["version"], "1.0",
        "the nested archive's PKG-INFO was used"
    );
    assert!(
        !std::path::Path::new("/tmp/wheelcheck-escape").exists(),
        "a member was written to disk"
    );
}

trait TakeBytes: std::io::Read + Sized {
    fn take_bytes(self, n: u64) -> std::io::Take<Self> {
        self.take(n)
    }
}
impl<R: std::io::Read> TakeBytes for R {}

/// Bytes the fixture index sent for one file, over all requests.
fn bytes_sent_for(world: &World, filename: &str) -> usize {
    let path = format!("/files/{filename}");
    world
        .index
        .requests()
        .iter()
        .filter(|r| r.path == path)
        .map(|r| r.bytes_sent)
        .sum()
}

#[test]
fn a_large_sdist_with_pkg_info_last_is_read_from_its_end_unless_hashes_are_verified() {
    let pyproject = b"[build-system]\nbuild-backend = \"mesonpy\"\nrequires = [\"meson-python\"]\n";
    let noise = support::dist::noise(3 << 20, 5);
    let gamma = sdist_tar_gz_pkg_info_last(
        &Meta::new("gamma", "1.0").dep("alpha>=1"),
        &[("src/data.bin", &noise), ("pyproject.toml", pyproject)],
    );
    let (filename, size) = (gamma.filename.clone(), gamma.bytes.len());
    let alpha = wheel(&Meta::new("alpha", "1.0"), "py3-none-any", &[]);
    let world = World::new(vec![
        ("alpha", vec![IndexFile::from(alpha)]),
        ("gamma", vec![IndexFile::from(gamma)]),
    ]);

    let run = world.run_json("gamma\n", &[SLIM]);
    let report = run.json();
    let gamma = package(&report, SLIM, "x86_64", "gamma");
    assert_eq!(gamma["kind"], "sdist", "{report:#}");
    // The dependency came from the PKG-INFO at the very end, as from the whole file.
    assert_eq!(package(&report, SLIM, "x86_64", "alpha")["version"], "1.0");
    assert_eq!(
        gamma["note"],
        "dependencies read from PKG-INFO (metadata 2.1), which a build may change"
    );
    assert_eq!(gamma["sha256_verified"], false, "only the end was read");
    let sent = bytes_sent_for(&world, &filename);
    assert!(sent < size / 2, "{sent} of {size} bytes sent");

    // The same answer from the whole file, whose hash is then checked.
    world.index.clear_log();
    std::fs::remove_dir_all(world.cache.path()).unwrap();
    let run = world.run(
        "gamma\n",
        &["--format", "json", "--image", SLIM, "--verify-hashes"],
    );
    let verified = run.json();
    let gamma = package(&verified, SLIM, "x86_64", "gamma");
    assert_eq!(gamma["sha256_verified"], true, "{verified:#}");
    assert_eq!(
        package(&verified, SLIM, "x86_64", "alpha")["version"],
        "1.0"
    );
    assert!(bytes_sent_for(&world, &filename) >= size);
}

#[test]
fn a_large_setuptools_sdist_is_read_whole_for_its_egg_info() {
    let noise = support::dist::noise(3 << 20, 9);
    let delta = sdist_tar_gz_pkg_info_last(
        &Meta::new("delta", "1.0"),
        &[
            ("src/data.bin", &noise),
            ("delta.egg-info/requires.txt", b"alpha\n"),
            (
                "pyproject.toml",
                b"[build-system]\nbuild-backend = \"setuptools.build_meta\"\n",
            ),
        ],
    );
    let (filename, size) = (delta.filename.clone(), delta.bytes.len());
    let alpha = wheel(&Meta::new("alpha", "1.0"), "py3-none-any", &[]);
    let world = World::new(vec![
        ("alpha", vec![IndexFile::from(alpha)]),
        ("delta", vec![IndexFile::from(delta)]),
    ]);
    let report = world.run_json("delta\n", &[SLIM]).json();
    let delta = package(&report, SLIM, "x86_64", "delta");
    assert_eq!(
        delta["note"],
        "dependencies read from the sdist's egg-info/requires.txt"
    );
    assert_eq!(package(&report, SLIM, "x86_64", "alpha")["version"], "1.0");
    assert_eq!(delta["sha256_verified"], true);
    assert!(bytes_sent_for(&world, &filename) >= size);
}
