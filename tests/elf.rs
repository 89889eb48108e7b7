//! ELF inspection end to end: real shared objects compiled by the system C compiler, packed into
//! wheels, served by the fixture index, read by range.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::elf::*;
use support::*;

const SLIM: &str = "python:3.12-slim-trixie";
const BOOKWORM: &str = "python:3.12-slim-bookworm";
const ALPINE: &str = "python:3.12-alpine3.24";
const GLIBC_TAG: &str = "cp312-cp312-manylinux_2_17_x86_64";
const MUSL_TAG: &str = "cp312-cp312-musllinux_1_2_x86_64";

fn native(name: &str, tag: &str, files: &[(&str, &[u8])]) -> IndexFile {
    IndexFile::from(wheel(&Meta::new(name, "1.0"), tag, files))
}

fn elf<'a>(report: &'a Value, image: &str, name: &str) -> &'a Value {
    &package(report, image, "x86_64", name)["elf"]
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_library_outside_the_wheel_is_needed_from_the_system() {
    let so = needs_system_lib();
    let world = World::new(vec![(
        "demo",
        vec![native("demo", GLIBC_TAG, &[("demo/_ext.so", &so.object)])],
    )]);
    let run = world.run_json("demo\n", &[SLIM]);
    let report = run.json();
    let elf = elf(&report, SLIM, "demo");
    assert_eq!(elf["analysis"], "done");
    assert_eq!(elf["files"], 1);
    assert_eq!(strings(&elf["needed_from_system"]), ["libwcdemo.so.1"]);
    assert_eq!(strings(&elf["provided_by_libc"]), ["libc.so.6"]);
    assert_eq!(elf["arch_mismatch"], false);
    assert_eq!(
        target(&report, SLIM, "x86_64")["system_libs_needed"]["libwcdemo.so.1"][0],
        "demo"
    );
}

#[test]
fn symbol_versions_give_the_highest_glibc_and_a_too_new_one_is_named() {
    let (so, version) = needs_glibc_symbol_version();
    // Same length, so the string table stays valid: this library now asks for GLIBC 2.99.
    let newer = replace(&so, format!("GLIBC_{version}").as_bytes(), b"GLIBC_2.99");
    let world = World::new(vec![
        (
            "recent",
            vec![native("recent", GLIBC_TAG, &[("recent/_ext.so", &so)])],
        ),
        (
            "future",
            vec![native("future", GLIBC_TAG, &[("future/_ext.so", &newer)])],
        ),
    ]);
    let report = world.run_json("recent\n", &[BOOKWORM]).json();
    assert_eq!(
        elf(&report, BOOKWORM, "recent")["symbol_versions"]["GLIBC"],
        version
    );
    assert_eq!(target(&report, BOOKWORM, "x86_64")["glibc_max"], version);

    let world_text = {
        std::fs::write(world.dir.path().join("requirements.txt"), "future\n").unwrap();
        let url = world.index.simple_url();
        wheelcheck(
            world.dir.path(),
            world.cache.path(),
            &[
                "requirements.txt",
                "--index-url",
                &url,
                "--python",
                "3.12",
                "--image",
                BOOKWORM,
            ],
        )
        .stdout
    };
    assert!(
        world_text.contains("future needs GLIBC 2.99, newer than the image's 2.36"),
        "{world_text}"
    );
}

#[test]
fn libraries_bundled_behind_an_rpath_are_provided_by_the_wheel() {
    let so = with_rpath_to_bundled("libfoo-1a2b3c4d.so.1");
    let world = World::new(vec![(
        "mypkg",
        vec![native(
            "mypkg",
            GLIBC_TAG,
            &[
                ("mypkg/_ext.so", &so.object),
                ("mypkg.libs/libfoo-1a2b3c4d.so.1", &so.library),
            ],
        )],
    )]);
    let report = world.run_json("mypkg\n", &[SLIM]).json();
    let elf = elf(&report, SLIM, "mypkg");
    assert_eq!(elf["files"], 2);
    assert_eq!(strings(&elf["provided_by_wheel"]), ["libfoo-1a2b3c4d.so.1"]);
    assert!(strings(&elf["needed_from_system"]).is_empty(), "{elf}");
}

#[test]
fn a_library_shipped_by_another_wheel_of_the_set_is_provided_by_it() {
    let so = needs_system_lib();
    let consumer = Meta::new("consumer", "1.0").dep("provider");
    let world = World::new(vec![
        (
            "consumer",
            vec![IndexFile::from(wheel(
                &consumer,
                GLIBC_TAG,
                &[("consumer/_ext.so", &so.object)],
            ))],
        ),
        (
            "provider",
            vec![native(
                "provider",
                GLIBC_TAG,
                &[("provider/lib/libwcdemo.so.1", &so.library)],
            )],
        ),
    ]);
    let report = world.run_json("consumer\n", &[SLIM]).json();
    let elf = elf(&report, SLIM, "consumer");
    assert_eq!(
        elf["provided_by_other_wheels"]["libwcdemo.so.1"],
        "provider"
    );
    assert!(strings(&elf["needed_from_system"]).is_empty(), "{elf}");
    assert!(
        target(&report, SLIM, "x86_64")["system_libs_needed"]
            .as_object()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn musls_libc_so_need_is_provided_by_musl() {
    let so = musl_style_libc_need();
    let world = World::new(vec![(
        "rusty",
        vec![native("rusty", MUSL_TAG, &[("rusty/_ext.so", &so)])],
    )]);
    let report = world.run_json("rusty\n", &[ALPINE]).json();
    let elf = elf(&report, ALPINE, "rusty");
    assert_eq!(strings(&elf["provided_by_libc"]), ["libc.so"]);
    assert!(strings(&elf["needed_from_system"]).is_empty(), "{elf}");
}

#[test]
fn a_cpp_extension_needs_libstdcxx_with_its_glibcxx_version() {
    let Some(so) = cpp_extension() else {
        panic!("no C++ compiler: install g++ (CI installs build-essential)");
    };
    let world = World::new(vec![(
        "cxx",
        vec![native("cxx", GLIBC_TAG, &[("cxx/_ext.so", &so)])],
    )]);
    let report = world.run_json("cxx\n", &[SLIM]).json();
    let elf = elf(&report, SLIM, "cxx");
    assert!(
        strings(&elf["needed_from_system"]).contains(&"libstdc++.so.6".to_string()),
        "{elf}"
    );
    assert!(
        elf["symbol_versions"]["GLIBCXX"]
            .as_str()
            .unwrap()
            .starts_with("3.4."),
        "{elf}"
    );
    assert_eq!(
        target(&report, SLIM, "x86_64")["glibcxx_max"],
        elf["symbol_versions"]["GLIBCXX"]
    );
}

#[test]
fn an_elf_of_the_wrong_architecture_is_flagged() {
    let so = needs_system_lib();
    // An x86_64 object in a wheel tagged for aarch64, checked on arm64.
    let world = World::new(vec![(
        "wrong",
        vec![native(
            "wrong",
            "cp312-cp312-manylinux_2_17_aarch64",
            &[("wrong/_ext.so", &so.object)],
        )],
    )]);
    let run = world.run(
        "wrong\n",
        &["--format", "json", "--image", SLIM, "--arch", "arm64"],
    );
    assert_eq!(
        package(&run.json(), SLIM, "aarch64", "wrong")["elf"]["arch_mismatch"],
        true
    );
}

#[test]
fn pure_python_wheels_need_nothing_and_cost_no_member_request() {
    let world = World::new(vec![(
        "pure",
        vec![native(
            "pure",
            "py3-none-any",
            &[("pure/__init__.py", b"x = 1\n")],
        )],
    )]);
    let report = world.run_json("pure\n", &[SLIM]).json();
    assert_eq!(elf(&report, SLIM, "pure")["analysis"], "none (pure Python)");
    let wheel_requests = world
        .index
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(".whl"))
        .count();
    assert_eq!(
        wheel_requests, 1,
        "one tail read for metadata and directory, nothing more"
    );
}

#[test]
fn only_elf_members_are_fetched_by_range_and_a_second_run_reads_nothing() {
    let so = needs_system_lib();
    let filler = noise(300_000);
    let world = World::new(vec![(
        "demo",
        vec![native(
            "demo",
            GLIBC_TAG,
            &[("demo/big_data.txt", &filler), ("demo/_ext.so", &so.object)],
        )],
    )]);
    let first = world.run_json("demo\n", &[SLIM, "python:3.12-trixie"]);
    let requests = world.index.requests();
    let wheel_requests: Vec<_> = requests
        .iter()
        .filter(|r| r.path.ends_with(".whl"))
        .collect();
    assert!(wheel_requests.iter().all(|r| r.header("range").is_some()));
    let sent: usize = wheel_requests.iter().map(|r| r.bytes_sent).sum();
    let report = first.json();
    let total = target(&report, SLIM, "x86_64")["bytes"]["wheels_total"]
        .as_u64()
        .unwrap() as usize;
    assert!(
        sent < total / 2,
        "read {sent} of {total} bytes: the text member was fetched"
    );
    assert_eq!(
        wheel_requests.len(),
        2,
        "tail + one member, shared by both targets"
    );

    world.index.clear_log();
    let second = world.run_json("demo\n", &[SLIM, "python:3.12-trixie"]);
    assert_eq!(first.stdout, second.stdout);
    assert!(
        world
            .index
            .requests()
            .iter()
            .all(|r| !r.path.ends_with(".whl")),
        "the analysis was not cached"
    );
}

#[test]
fn a_picked_wheel_is_read_while_the_resolution_still_waits_on_another_package() {
    let so = needs_system_lib();
    let filler = noise(300_000);
    // The resolver settles demo (listed first), then mid, whose dependency's page is slow.
    let app = Meta::new("app", "1.0").dep("demo").dep("mid");
    let mid = Meta::new("mid", "1.0").dep("slow");
    let world = World::new(vec![
        (
            "app",
            vec![IndexFile::from(wheel(&app, "py3-none-any", &[]))],
        ),
        (
            "mid",
            vec![IndexFile::from(wheel(&mid, "py3-none-any", &[]))],
        ),
        (
            "demo",
            vec![native(
                "demo",
                GLIBC_TAG,
                &[("demo/_ext.so", &so.object), ("demo/data.txt", &filler)],
            )],
        ),
        (
            "slow",
            vec![IndexFile::from(wheel(
                &Meta::new("slow", "1.0"),
                "py3-none-any",
                &[],
            ))],
        ),
    ]);
    world
        .index
        .set_fault("/simple/slow/", Fault::Delay(Duration::from_millis(1500)));
    let report = world.run_json("app\n", &[SLIM]).json();
    assert_eq!(elf(&report, SLIM, "demo")["analysis"], "done");
    let requests = world.index.requests();
    let slow_page = requests
        .iter()
        .position(|r| r.path.starts_with("/simple/slow/"))
        .expect("slow's page was asked for");
    // The wheel's tail (central directory and metadata), then its ELF member.
    let demo_reads_before = requests[..slow_page]
        .iter()
        .filter(|r| r.path.contains("/demo-"))
        .count();
    assert_eq!(
        demo_reads_before, 2,
        "demo's ELF member was not read while slow's page was awaited: {requests:#?}"
    );
}

#[test]
fn a_wheels_elf_members_are_read_while_its_metadata_is_still_coming() {
    // METADATA lies before 100 KB of incompressible data, out of the first request's reach
    // (the wheel's last 64 KiB): reading it is a request of its own, which the server delays.
    let so = needs_system_lib();
    let meta = Meta::new("demo", "1.0");
    let metadata_path = "demo-1.0.dist-info/METADATA";
    let rendered = meta.render();
    let built = wheel(
        &meta,
        GLIBC_TAG,
        &[
            ("demo/_ext.so", &so.object),
            (metadata_path, rendered.as_bytes()),
            ("demo/data.bin", &noise(100_000)),
        ],
    );
    let metadata_at = local_header_offset(&built.bytes, metadata_path);
    let world = World::new(vec![("demo", vec![IndexFile::from(built)])]);
    world.index.set_fault(
        "/files/demo-",
        Fault::DelayRangeFrom(metadata_at, Duration::from_millis(1500)),
    );
    let report = world.run_json("demo\n", &[SLIM]).json();
    assert_eq!(elf(&report, SLIM, "demo")["analysis"], "done");
    let reads: Vec<String> = world
        .index
        .requests()
        .iter()
        .filter(|r| r.path.contains("/demo-"))
        .map(|r| r.header("range").unwrap_or_default().to_string())
        .collect();
    let starting_at = |offset: u64| {
        let wanted = format!("bytes={offset}-");
        reads.iter().position(|r| r.starts_with(&wanted))
    };
    let (member_read, metadata_read) = (starting_at(0), starting_at(metadata_at));
    assert!(
        member_read.is_some() && metadata_read.is_some(),
        "{reads:?}"
    );
    assert_eq!(reads.len(), 3, "tail, member, METADATA: {reads:?}");
    assert!(
        member_read < metadata_read,
        "the ELF member waited for METADATA: {reads:?}"
    );
}

/// Where the local header of the member `name` starts in a zip archive.
fn local_header_offset(zip: &[u8], name: &str) -> u64 {
    (0..zip.len() - 30)
        .find(|&i| {
            zip[i..].starts_with(b"PK\x03\x04") && zip[i + 30..].starts_with(name.as_bytes())
        })
        .expect("the member is in the archive") as u64
}

#[test]
fn shared_objects_lying_together_are_fetched_by_one_request_and_each_is_read() {
    let needs_lib = needs_system_lib();
    let (versioned, version) = needs_glibc_symbol_version();
    let future = replace(
        &versioned,
        format!("GLIBC_{version}").as_bytes(),
        b"GLIBC_2.99",
    );
    let world = World::new(vec![(
        "demo",
        vec![native(
            "demo",
            GLIBC_TAG,
            &[
                ("demo/_one.so", &needs_lib.object),
                ("demo/__init__.py", b"from . import _one, _two"),
                ("demo/_two.so", &future),
                ("demo/script.py", b"print('not an ELF file')"),
                ("demo.libs/libthree.so.1", &versioned),
            ],
        )],
    )]);
    let report = world.run_json("demo\n", &[SLIM]).json();
    let elf = elf(&report, SLIM, "demo");
    assert_eq!(elf["analysis"], "done", "{elf:#}");
    assert_eq!(elf["files"], 3);
    // Each member was read whole: the first one's need, the middle one's symbol version.
    assert_eq!(strings(&elf["needed_from_system"]), ["libwcdemo.so.1"]);
    assert_eq!(elf["symbol_versions"]["GLIBC"], "2.99");
    let wheel_requests = world
        .index
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(".whl"))
        .count();
    assert_eq!(
        wheel_requests, 2,
        "the tail, then one request for the three members"
    );
}

#[test]
fn a_slow_file_s_small_members_come_in_shorter_requests_at_once() {
    // Three libraries of about 150 KB (compressed) side by side: one request when no file is
    // slower than the rest; from a file slower than the rest, whose bodies trickle, one each.
    let mut lib = needs_system_lib().object;
    lib.extend(noise(150 << 10));
    let files: Vec<(String, &[u8])> = (0..3)
        .map(|i| (format!("demo.libs/libpart{i}.so"), lib.as_slice()))
        .collect();
    let members: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    let member_reads = |delayed: &str| {
        let (report, reads) = run_with_delayed(native("demo", GLIBC_TAG, &members), delayed);
        let elf = elf(&report, SLIM, "demo").clone();
        assert_eq!(elf["analysis"], "done");
        assert_eq!(elf["files"], 3);
        (elf, reads.len())
    };
    let (quick, quick_reads) = member_reads("/files/none");
    assert_eq!(quick_reads, 2, "the tail, then one request for the three");
    let (slow, slow_reads) = member_reads("/files/demo-1.0-");
    assert_eq!(slow_reads, 4, "the tail, then one request each");
    assert_eq!(slow, quick);
}

#[test]
fn a_broken_elf_member_fails_the_analysis_and_the_target_is_not_fine() {
    let world = World::new(vec![(
        "broken",
        vec![native(
            "broken",
            GLIBC_TAG,
            &[(
                "broken/_ext.so",
                b"\x7fELF\x02\x01\x01 this is not an ELF body",
            )],
        )],
    )]);
    let run = world.run_json("broken\n", &[SLIM]);
    let report = run.json();
    let elf = elf(&report, SLIM, "broken");
    assert!(
        elf["analysis"].as_str().unwrap().starts_with("failed: "),
        "{elf}"
    );
    assert_eq!(run.code, 3, "could not check: {}", run.stderr);
    let human = world.run_json("broken\n", &[SLIM]);
    assert_eq!(human.code, 3);
}

#[test]
fn a_member_lying_about_its_size_is_refused_without_inflating_it() {
    let so = needs_system_lib();
    let mut built = wheel(
        &Meta::new("bomb", "1.0"),
        GLIBC_TAG,
        &[("bomb/_ext.so", &so.object)],
    );
    set_declared_size(&mut built.bytes, "bomb/_ext.so", u32::MAX - 1);
    let world = World::new(vec![(
        "bomb",
        vec![IndexFile::from(support::dist::Built::from_bytes(
            &built.filename,
            built.bytes,
        ))],
    )]);
    let run = world.run_json("bomb\n", &[SLIM]);
    let elf = elf(&run.json(), SLIM, "bomb").clone();
    let analysis = elf["analysis"].as_str().unwrap();
    assert!(
        analysis.starts_with("failed: ") && analysis.contains("bomb/_ext.so"),
        "{elf}"
    );
    assert_eq!(run.code, 3);
}

#[test]
fn a_truncated_wheel_fails_clearly() {
    let so = needs_system_lib();
    let built = wheel(
        &Meta::new("cut", "1.0"),
        GLIBC_TAG,
        &[("cut/_ext.so", &so.object)],
    );
    let half = built.bytes[..built.bytes.len() / 2].to_vec();
    let world = World::new(vec![(
        "cut",
        vec![IndexFile::from(support::dist::Built::from_bytes(
            &built.filename,
            half,
        ))],
    )]);
    let run = world.run_json("cut\n", &[SLIM]);
    let report = run.json();
    let target = target(&report, SLIM, "x86_64");
    assert_eq!(target["resolution"]["ok"], false, "{target}");
    assert!(
        target["resolution"]["error"]
            .as_str()
            .unwrap()
            .contains("end-of-central-directory"),
        "{target}"
    );
    assert_eq!(run.code, 3);
}

/// Incompressible bytes (a linear congruential generator), so the member stays large in the zip.
fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u8
        })
        .collect()
}

fn replace(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at = haystack
        .windows(from.len())
        .position(|w| w == from)
        .expect("string present");
    let mut out = haystack.to_vec();
    out[at..at + to.len()].copy_from_slice(to);
    out
}

/// Patch the uncompressed size a wheel's central directory declares for `name`.
fn set_declared_size(zip: &mut [u8], name: &str, size: u32) {
    let at = zip
        .windows(name.len())
        .rposition(|w| w == name.as_bytes())
        .expect("name in central directory");
    let header = at - 46;
    assert_eq!(&zip[header..header + 4], b"PK\x01\x02");
    zip[header + 24..header + 28].copy_from_slice(&size.to_le_bytes());
}

#[test]
fn the_gpu_drivers_libraries_are_provided_by_the_host_not_missing() {
    let so = build_shared_object(&SharedObject {
        source: "int entry(void) { return 0; }".into(),
        needed_libs: vec![(
            "libcuda.so.1".into(),
            "int cuInit(int f) { return f; }".into(),
        )],
        ..SharedObject::default()
    });
    let world = World::new(vec![(
        "gpu",
        vec![native("gpu", GLIBC_TAG, &[("gpu/_C.so", &so)])],
    )]);
    let report = world.run_json("gpu\n", &[SLIM]).json();
    let elf = elf(&report, SLIM, "gpu");
    assert_eq!(strings(&elf["provided_by_host"]), ["libcuda.so.1"]);
    assert!(strings(&elf["needed_from_system"]).is_empty(), "{elf}");
    let target = target(&report, SLIM, "x86_64");
    assert_eq!(target["verdict"], "works", "{target:#}");
    assert_eq!(target["host_libraries"]["libcuda.so.1"][0], "gpu");
}

/// A library large enough for the sparse read (over 2 MiB compressed): a table of pseudo-random
/// words puts its dynamic section megabytes into the member — or, `writable`, the table goes to
/// `.data` after the dynamic section, which then comes early (as in CUDA libraries, whose fat
/// binaries follow it).
fn large_library(writable: bool) -> Vec<u8> {
    library_with_table(8 << 20, writable)
}

/// [`large_library`] with a table of `table_len` bytes.
fn library_with_table(table_len: usize, writable: bool) -> Vec<u8> {
    match writable {
        true => library_with_tables(0, table_len),
        false => library_with_tables(table_len, 0),
    }
}

/// A library with tables of pseudo-random words: `read_only` bytes before its dynamic section
/// (`.rodata`) and `writable` bytes after it (`.data`).
fn library_with_tables(read_only: usize, writable: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9u32;
    let mut words = |len: usize| {
        let mut words = String::new();
        while words.len() < len {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            words.push_str(&format!("w{:x} ", state % 100_000));
        }
        words
    };
    let (constant, data) = (words(read_only), words(writable));
    build_shared_object(&SharedObject {
        source: format!(
            "const char wc_table[] = \"{constant}\";\nchar wc_data[] = \"{data}\";\n\
             int wc_demo(void) {{ return wc_table[0] + wc_data[0]; }}\n"
        ),
        soname: Some("libwcbig.so.1".into()),
        links: vec!["m".into()],
        rpath: Some("$ORIGIN/../demo.libs".into()),
        ..SharedObject::default()
    })
}

#[test]
fn a_large_member_is_read_sparsely_with_the_same_answers_as_read_whole() {
    let so = large_library(false);
    assert!(compressed_len(&so) > 2 << 20, "large");
    sparse_and_whole_agree(&so, "libwcbig.so.1", &["libc.so.6", "libm.so.6"], 2);
}

#[test]
fn a_mid_size_member_is_read_sparsely_in_one_round_trip() {
    // Its start and its tail are fetched together, before its layout is known: after the
    // wheel's directory, one round trip of two requests, and no more.
    let so = library_with_table(2 << 20, false);
    assert!(
        (512 << 10..2 << 20).contains(&compressed_len(&so)),
        "mid-size"
    );
    sparse_and_whole_agree(&so, "libwcbig.so.1", &["libc.so.6", "libm.so.6"], 2);
    let world = World::new(vec![(
        "demo",
        vec![native("demo", GLIBC_TAG, &[("demo/libwcbig.so.1", &so)])],
    )]);
    let report = world.run_json("demo\n", &[SLIM]).json();
    assert_eq!(elf(&report, SLIM, "demo")["analysis"], "done");
    let reads = requests_under(&world, "/files/demo-1.0-");
    assert_eq!(reads.len(), 3, "directory, then start and tail: {reads:?}");
}

#[test]
fn a_slow_file_s_mid_size_member_is_fetched_whole_and_its_step_backs_need_no_request() {
    // 600 KB of words after the dynamic section: the tail fetched with the start does not
    // reach it with known bytes, and decoding steps back. From a quick server that is one more
    // request; from a file slower than the rest (its CDN fetching every range from the origin)
    // the member came whole with its start, and the step back reads what is already here.
    let so = library_with_tables(1_500_000, 600_000);
    assert!(
        (512 << 10..1 << 20).contains(&compressed_len(&so)),
        "mid-size: {}",
        compressed_len(&so)
    );
    sparse_and_whole_agree(&so, "libwcbig.so.1", &["libc.so.6", "libm.so.6"], 1);
    let slow_demo = |delayed: &str| {
        let demo = native("demo", GLIBC_TAG, &[("demo/libwcbig.so.1", &so)]);
        let (report, reads) = run_with_delayed(demo, delayed);
        assert_eq!(elf(&report, SLIM, "demo")["analysis"], "done");
        (report, reads)
    };
    let (quick, quick_reads) = slow_demo("/files/none");
    assert!(
        quick_reads.len() >= 4,
        "directory, start and tail, a step back: {quick_reads:?}"
    );
    assert!(fetched(&quick) < compressed_len(&so) as u64, "a part");

    let (slow, slow_reads) = slow_demo("/files/demo-1.0-");
    assert_eq!(
        slow_reads.len(),
        3,
        "directory, start and the rest: {slow_reads:?}"
    );
    assert_eq!(elf(&slow, SLIM, "demo"), elf(&quick, SLIM, "demo"));
    assert!(fetched(&slow) >= compressed_len(&so) as u64, "all of it");
}

#[test]
fn a_large_member_with_an_early_dynamic_section_is_read_from_its_start() {
    // Decoding the tail would mean decoding the whole table: reading from the start, a fraction.
    sparse_and_whole_agree(
        &large_library(true),
        "libwcbig.so.1",
        &["libc.so.6", "libm.so.6"],
        10,
    );
}

#[test]
fn a_member_read_whole_stops_once_its_start_holds_the_answers() {
    // Under the size read sparsely, with incompressible bytes after everything that is read
    // (as an unstripped library's symbol tables and debug sections are).
    let mut so = needs_system_lib().object;
    so.extend(noise(448 << 10));
    assert!(compressed_len(&so) < 512 << 10, "read whole");
    sparse_and_whole_agree(&so, "libwcdemo.so.1", &["libc.so.6"], 3);
}

#[test]
fn a_start_that_does_not_parse_is_read_again_whole() {
    // A byte that is not UTF-8 in a needed library's name: the reader of the start refuses it
    // in its own words; the member is read again whole, so the report is the whole read's,
    // word for word (which also fails, in the ELF parser's words).
    let so = needs_system_lib().object;
    let mut so = replace(&so, b"libwcdemo.so.1", b"libwcdem\xff.so.1");
    so.extend(noise(448 << 10));
    let (default, whole) = reports(&so, "libwcdemo.so.1");
    let (default_json, whole_json) = (default.json(), whole.json());
    assert_eq!(
        elf(&default_json, SLIM, "demo"),
        elf(&whole_json, SLIM, "demo")
    );
    assert_eq!(
        requests(&default),
        requests(&whole) + 1,
        "the member is fetched twice"
    );
}

/// The paths of the requests the fixture index answered under `prefix`.
/// The JSON report on slim of `demo` (this wheel) with two pure wheels beside it, answers to
/// paths under `delayed` coming 60 ms late; and the requests to demo's wheel. The quick files
/// make the median answer time a quick one, as in a real run.
fn run_with_delayed(demo: IndexFile, delayed: &str) -> (Value, Vec<String>) {
    let pure = |name: &str| native(name, "py3-none-any", &[("x/__init__.py", b"x = 1\n")]);
    let world = World::new(vec![
        ("demo", vec![demo]),
        ("quick-a", vec![pure("quick-a")]),
        ("quick-b", vec![pure("quick-b")]),
    ]);
    world.index.set_fault(
        delayed,
        support::server::Fault::Delay(Duration::from_millis(60)),
    );
    let report = world.run_json("demo\nquick-a\nquick-b\n", &[SLIM]).json();
    (report, requests_under(&world, "/files/demo-1.0-"))
}

fn requests_under(world: &World, prefix: &str) -> Vec<String> {
    world
        .index
        .requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|path| path.starts_with(prefix))
        .collect()
}

/// Bytes of `data` deflated (as the wheels of the tests are).
fn compressed_len(data: &[u8]) -> usize {
    use std::io::Write;
    let mut encoder =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap().len()
}

/// The number of requests `-v` says a run made.
fn requests(run: &support::cli::Run) -> u64 {
    let line = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("network: "))
        .unwrap_or_else(|| panic!("no network line: {}", run.stderr));
    line.split(' ').next().unwrap().parse().unwrap()
}

fn fetched(report: &Value) -> u64 {
    target(report, SLIM, "x86_64")["bytes"]["elf_fetched"]
        .as_u64()
        .unwrap()
}

/// Reading `so` by default (sparsely, or whole but only as far as needed) gives the same answers
/// as reading it whole (libc providing `libc`), fetching at most `1/saving` of its bytes.
fn sparse_and_whole_agree(so: &[u8], member: &str, libc: &[&str], saving: u64) {
    let (sparse, whole) = reports(so, member);
    let (sparse, whole) = (sparse.json(), whole.json());
    let (sparse_elf, whole_elf) = (elf(&sparse, SLIM, "demo"), elf(&whole, SLIM, "demo"));
    assert_eq!(sparse_elf["analysis"], "done");
    assert_eq!(sparse_elf, whole_elf);
    assert_eq!(strings(&sparse_elf["provided_by_libc"]), libc);
    assert!(
        fetched(&sparse) * saving < fetched(&whole),
        "sparse {} bytes, whole {} bytes",
        fetched(&sparse),
        fetched(&whole)
    );
}

/// The JSON reports of a wheel holding `so` as `demo/<member>`: as wheelcheck reads it by
/// default, and with every ELF member inflated whole (`WHEELCHECK_WHOLE_MEMBERS`).
fn reports(so: &[u8], member: &str) -> (support::cli::Run, support::cli::Run) {
    let path = format!("demo/{member}");
    let world = World::new(vec![(
        "demo",
        vec![native("demo", GLIBC_TAG, &[(path.as_str(), so)])],
    )]);
    std::fs::write(world.dir.path().join("requirements.txt"), "demo\n").unwrap();
    let url = world.index.simple_url();
    let args = [
        "requirements.txt",
        "--index-url",
        &url,
        "--python",
        "3.12",
        "--format",
        "json",
        "-v",
        "--image",
        SLIM,
    ];
    let sparse = wheelcheck(world.dir.path(), world.cache.path(), &args);
    let whole_cache = tempfile::tempdir().unwrap();
    let whole = support::cli::wheelcheck_with_env(
        world.dir.path(),
        whole_cache.path(),
        &args,
        &[("WHEELCHECK_WHOLE_MEMBERS", "1")],
    );
    (sparse, whole)
}

#[test]
fn a_guessed_version_is_not_read_for_its_elf_files_unless_pinned() {
    // The prefetch and the speculator guess lib 2.0 for `lib>=1` (its metadata is read), but
    // `other` narrows lib to 1.x: only the chosen wheel's ELF member is read. The pinned `pin`
    // is read on the guess, beside its metadata.
    let so = needs_system_lib();
    let other = Meta::new("other", "1.0").dep("lib<2");
    let lib = |version: &str| {
        IndexFile::from(wheel(
            &Meta::new("lib", version),
            GLIBC_TAG,
            &[("lib/_ext.so", &so.object)],
        ))
    };
    let world = World::new(vec![
        (
            "other",
            vec![IndexFile::from(wheel(&other, "py3-none-any", &[]))],
        ),
        ("lib", vec![lib("1.0"), lib("2.0")]),
        (
            "pin",
            vec![native("pin", GLIBC_TAG, &[("pin/_ext.so", &so.object)])],
        ),
    ]);
    let report = world.run_json("other\nlib>=1\npin==1.0\n", &[SLIM]).json();
    assert_eq!(elf(&report, SLIM, "lib")["analysis"], "done");
    assert_eq!(elf(&report, SLIM, "pin")["analysis"], "done");
    let reads = |prefix: &str| requests_under(&world, prefix).len();
    assert_eq!(reads("/files/lib-2.0-"), 1, "lib 2.0: its tail only");
    assert_eq!(
        reads("/files/lib-1.0-"),
        2,
        "lib 1.0: tail, then its member"
    );
    assert_eq!(reads("/files/pin-1.0-"), 2);
}

#[test]
fn a_warm_run_needs_no_wheels_directory() {
    // The report takes a chosen wheel's sizes and file names from their own small entry, and
    // the resolver its METADATA: with every cached directory gone, an offline run still gives
    // the same report.
    let so = needs_system_lib();
    let world = World::new(vec![(
        "demo",
        vec![native(
            "demo",
            GLIBC_TAG,
            &[("demo/_ext.so", &so.object), ("demo/data.txt", b"data")],
        )],
    )]);
    let args = ["--format", "json", "--image", SLIM, "--arch", "amd64"];
    let first = world.run("demo\n", &args);
    let entries = world.cache.path().join("entries-v1");
    let mut removed = 0;
    for entry in std::fs::read_dir(&entries).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        if bytes.windows(14).any(|w| w == b"wheel-head:v1:") {
            std::fs::remove_file(&path).unwrap();
            removed += 1;
        }
    }
    assert_eq!(removed, 1, "one wheel, one cached directory");
    let offline = world.run("demo\n", &[&args[..], &["--offline"]].concat());
    assert_eq!(offline.code, first.code, "{}", offline.stderr);
    assert_eq!(offline.stdout, first.stdout);
    assert!(
        first.stdout.contains("\"wheels_installed\""),
        "{}",
        first.stdout
    );
}
