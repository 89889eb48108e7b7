//! Real ELF shared objects, compiled by the system C compiler (`cc`, `c++`) into a temporary
//! directory that is deleted before the bytes are returned. Real compiler output, rather than
//! hand-made bytes, is what shows the inspector reads what the linker actually writes.
//!
//! The compiler is required: a missing `cc` panics (CI installs it). Every library is linked
//! with `--no-as-needed`, so each one named lands in `DT_NEEDED` even where the distribution's
//! compiler defaults to `--as-needed` (Ubuntu) and the source does not use it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What to compile into one shared object.
#[derive(Clone, Debug, Default)]
pub struct SharedObject {
    /// C source of the object.
    pub source: String,
    /// `-Wl,-soname,<soname>`.
    pub soname: Option<String>,
    /// Extra `-l` libraries, e.g. `["m", "z"]`.
    pub links: Vec<String>,
    /// `-Wl,-rpath,<value>`: `DT_RUNPATH`, or `DT_RPATH` when `old_rpath`.
    pub rpath: Option<String>,
    pub old_rpath: bool,
    /// Helper libraries `(soname, C source)` built first and linked against, so their sonames
    /// are `DT_NEEDED` entries of the object.
    pub needed_libs: Vec<(String, String)>,
}

/// A shared object and the library it needs, which a test may bundle in the wheel or not.
#[derive(Clone, Debug)]
pub struct WithLibrary {
    pub object: Vec<u8>,
    pub library: Vec<u8>,
    pub library_soname: String,
}

/// Compile C source into a shared object with the system C compiler and return its bytes.
pub fn build_shared_object(spec: &SharedObject) -> Vec<u8> {
    build(spec, "cc", &[]).0
}

/// Builds `spec` with `compiler` and `extra` flags; returns the object and the helper libraries'
/// bytes, in `needed_libs` order.
fn build(spec: &SharedObject, compiler: &str, extra: &[&str]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut helpers = Vec::new();
    let mut helper_paths = Vec::new();
    for (soname, source) in &spec.needed_libs {
        // Named by soname and passed by path: the linker records the soname either way.
        let path = dir.path().join(soname);
        let helper = SharedObject {
            source: source.clone(),
            soname: Some(soname.clone()),
            ..SharedObject::default()
        };
        compile(&helper, compiler, extra, &[], &path);
        helpers.push(std::fs::read(&path).expect("read helper library"));
        helper_paths.push(path);
    }
    let out = dir.path().join("object.so");
    compile(spec, compiler, extra, &helper_paths, &out);
    (std::fs::read(&out).expect("read shared object"), helpers)
}

fn compile(spec: &SharedObject, compiler: &str, extra: &[&str], inputs: &[PathBuf], out: &Path) {
    let language = if compiler == "c++" { "cpp" } else { "c" };
    let source = out.with_extension(language);
    std::fs::write(&source, &spec.source).expect("write source");
    let mut command = Command::new(compiler);
    command
        .args(["-shared", "-fPIC", "-o"])
        .arg(out)
        .arg(&source)
        .args(extra)
        .arg("-Wl,--no-as-needed");
    if let Some(soname) = &spec.soname {
        command.arg(format!("-Wl,-soname,{soname}"));
    }
    if let Some(rpath) = &spec.rpath {
        let dtags = if spec.old_rpath {
            "--disable-new-dtags"
        } else {
            "--enable-new-dtags"
        };
        command.arg(format!("-Wl,{dtags},-rpath,{rpath}"));
    }
    command.args(inputs);
    command.args(spec.links.iter().map(|l| format!("-l{l}")));
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{compiler}` (install a C toolchain): {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// An extension needing `libwcdemo.so.1`, a library outside the wheel unless a test bundles
/// `library`.
pub fn needs_system_lib() -> WithLibrary {
    linked_against("libwcdemo.so.1", SharedObject::default())
}

/// An extension calling `close_range`, so `.gnu.version_r` needs `GLIBC_2.34` from libc.so.6;
/// returns the object and `"2.34"`. `close_range` first appeared in glibc 2.34 (on every
/// architecture), so the object loads on Debian bookworm (2.36) but not on bullseye (2.31).
/// Building it needs glibc >= 2.34 (Debian 12, Ubuntu 22.04 and later).
pub fn needs_glibc_symbol_version() -> (Vec<u8>, &'static str) {
    // Declared by hand: older headers hide it behind _GNU_SOURCE.
    let source = "int close_range(unsigned int, unsigned int, int);\n\
                  int wc_close_all(void) { return close_range(3, ~0U, 0); }\n";
    let object = build_shared_object(&SharedObject {
        source: source.into(),
        ..SharedObject::default()
    });
    (object, "2.34")
}

/// The auditwheel layout: an extension with `DT_RUNPATH` `$ORIGIN/../mypkg.libs` needing
/// `lib_soname` (auditwheel names copies like `libfoo-1a2b3c4d.so.1`), and that library.
/// For `DT_RPATH` instead, build with [`SharedObject::old_rpath`].
pub fn with_rpath_to_bundled(lib_soname: &str) -> WithLibrary {
    linked_against(
        lib_soname,
        SharedObject {
            rpath: Some("$ORIGIN/../mypkg.libs".into()),
            ..SharedObject::default()
        },
    )
}

fn linked_against(lib_soname: &str, spec: SharedObject) -> WithLibrary {
    let spec = SharedObject {
        source: "int wc_helper(int);\nint wc_call(int x) { return wc_helper(x) + 1; }\n".into(),
        needed_libs: vec![(
            lib_soname.into(),
            "int wc_helper(int x) { return 2 * x; }\n".into(),
        )],
        ..spec
    };
    let (object, mut helpers) = build(&spec, "cc", &[]);
    WithLibrary {
        object,
        library: helpers.remove(0),
        library_soname: lib_soname.into(),
    }
}

/// An extension whose only `DT_NEEDED` is `libc.so`, as Rust musllinux wheels have: linked with
/// `-nostdlib` against a stub whose soname is `libc.so`, so neither glibc's `libc.so.6` nor any
/// symbol version appears.
pub fn musl_style_libc_need() -> Vec<u8> {
    let spec = SharedObject {
        source: "unsigned long strlen(const char *);\n\
                 unsigned long wc_len(const char *s) { return strlen(s); }\n"
            .into(),
        needed_libs: vec![(
            "libc.so".into(),
            "unsigned long strlen(const char *s) { unsigned long n = 0; while (s[n]) n++; return n; }\n".into(),
        )],
        ..SharedObject::default()
    };
    build(&spec, "cc", &["-nostdlib"]).0
}

/// An object as a musllinux wheel has it: linked against musl's loader name
/// (`libc.musl-x86_64.so.1`, stubbed) and the given libraries, never glibc.
pub fn musl_object_needing(sonames: &[&str]) -> Vec<u8> {
    let mut needed_libs: Vec<(String, String)> = sonames
        .iter()
        .map(|s| (s.to_string(), "int stub(void) { return 1; }".to_string()))
        .collect();
    needed_libs.push((
        "libc.musl-x86_64.so.1".into(),
        "int musl_stub(void) { return 0; }".into(),
    ));
    let spec = SharedObject {
        source: "int entry(void) { return 0; }".into(),
        needed_libs,
        ..SharedObject::default()
    };
    build(&spec, "cc", &["-nostdlib"]).0
}

/// A C++ extension, which needs `libstdc++.so.6` with `GLIBCXX_*` and `CXXABI_*` versions;
/// `None` when there is no `c++` compiler.
pub fn cpp_extension() -> Option<Vec<u8>> {
    Command::new("c++").arg("--version").output().ok()?;
    let source = "#include <stdexcept>\n#include <string>\n\
                  extern \"C\" int wc_check(const char *s) {\n\
                      std::string text(s);\n\
                      if (text.empty()) throw std::runtime_error(\"empty: \" + text);\n\
                      return static_cast<int>(text.size());\n\
                  }\n";
    let spec = SharedObject {
        source: source.into(),
        ..SharedObject::default()
    };
    Some(build(&spec, "c++", &[]).0)
}
