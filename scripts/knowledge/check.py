#!/usr/bin/env python3
"""Spot checks of the generated data in data/knowledge/ (no network).

Usage:
    python3 scripts/knowledge/check.py

Prints one line per check ("ok", "FAIL" or "info") and exits 1 if any
expectation fails.  "info" lines report facts without an expectation.
The output of a run is pasted into data/knowledge/README.md.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kcommon  # noqa: E402

D = kcommon.OUT_DIR
fails = 0


def load_map(path, key=0, val=1):
    m = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            r = line.rstrip("\n").split("\t")
            m.setdefault(r[key], r[val])
    return m


def load_set(path):
    return set(load_map(path).keys())


def report(ok, text):
    global fails
    if ok is None:
        print("info  " + text)
        return
    if not ok:
        fails += 1
    print(("ok    " if ok else "FAIL  ") + text)


def main():
    expect = {
        "libgomp.so.1": ("libgomp1", "libgomp1"),
        "libGL.so.1": ("libgl1", "libgl1"),
        "libglib-2.0.so.0": ("libglib2.0-0", "libglib2.0-0t64"),
        "libstdc++.so.6": ("libstdc++6", "libstdc++6"),
        "libz.so.1": ("zlib1g", "zlib1g"),
        "libssl.so.3": ("libssl3", "libssl3t64"),
        "libgfortran.so.5": ("libgfortran5", "libgfortran5"),
        "libX11.so.6": ("libx11-6", "libx11-6"),
        "libxcb.so.1": ("libxcb1", "libxcb1"),
        "libblas.so.3": ("libblas3", "libblas3"),
        "liblapack.so.3": ("liblapack3", "liblapack3"),
    }
    info_only = ["libopenblas.so.0", "libquadmath.so.0", "libEGL.so.1", "libGLX.so.0", "libpq.so.5",
                 "libjpeg.so.62", "libpng16.so.16", "libsqlite3.so.0", "libffi.so.8", "libc.so.6",
                 "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"]
    for i, rel in enumerate(("bookworm", "trixie")):
        for arch in ("amd64", "arm64"):
            p = os.path.join(D, "debian-%s-%s-sonames.tsv" % (rel, arch))
            m = load_map(p)
            for so, want in expect.items():
                got = m.get(so, "(absent)")
                report(got == want[i], "debian %s %s: %s -> %s (expected %s)" % (rel, arch, so, got, want[i]))
            for so in info_only:
                report(None, "debian %s %s: %s -> %s" % (rel, arch, so, m.get(so, "(absent)")))

    idir = os.path.join(D, "image-sonames")
    img_checks = [
        ("python-3.12-slim-trixie", {"libGL.so.1": False, "libgomp.so.1": False, "libz.so.1": True,
                                     "libssl.so.3": True, "libffi.so.8": True, "libpython3.12.so.1.0": True}),
        ("python-3.12-slim-bookworm", {"libGL.so.1": False, "libgomp.so.1": False, "libz.so.1": True,
                                       "libssl.so.3": True, "libffi.so.8": True}),
        ("python-3.12-alpine3.24", {"libGL.so.1": False, "libgomp.so.1": False, "libz.so.1": True,
                                    "libssl.so.3": True, "libffi.so.8": True, "libpython3.12.so.1.0": True}),
    ]
    for stem, exp in img_checks:
        for arch in ("amd64", "arm64"):
            s = load_set(os.path.join(idir, "%s-%s.tsv" % (stem, arch)))
            for so, want in exp.items():
                report((so in s) == want, "image %s %s: %s %s (expected %s)" % (
                    stem, arch, so, "present" if so in s else "absent", "present" if want else "absent"))
    for stem in ("python-3.12-trixie", "python-3.12-bookworm", "python-3.14-trixie", "python-3.13-bookworm"):
        for arch in ("amd64", "arm64"):
            s = load_map(os.path.join(idir, "%s-%s.tsv" % (stem, arch)))
            for so in ("libgomp.so.1", "libstdc++.so.6", "libGL.so.1", "libX11.so.6", "libgfortran.so.5",
                       "libpq.so.5", "libjpeg.so.62", "libxml2.so.2"):
                report(None, "image %s %s: %s %s" % (stem, arch, so,
                                                     ("present (%s)" % s[so]) if so in s else "absent"))
    a = load_map(os.path.join(D, "alpine-3.22-sonames.tsv"))
    for so, want in {"libgomp.so.1": "libgomp", "libGL.so.1": "mesa-gl", "libstdc++.so.6": "libstdc++",
                     "libgfortran.so.5": "libgfortran", "libz.so.1": "zlib"}.items():
        got = a.get(so, "(absent)")
        report(got == want, "alpine 3.22: %s -> %s (expected %s)" % (so, got, want))
    for so in ("libGLX.so.0", "libopenblas.so.0", "libtinfo.so.6"):
        report(so not in a, "alpine 3.22: %s %s (expected absent)" % (so, "absent" if so not in a else a[so]))
    print("%d failure(s)" % fails)
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
