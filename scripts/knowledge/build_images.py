#!/usr/bin/env python3
"""Build the per-image soname sets of the official python Docker images.

Usage (after fetch_debian_indexes.py and build_debian.py):
    python3 scripts/knowledge/build_images.py [--apt-dir DIR]

For every /work/shared/reference/images/python-*.tsv (override the root with
$WHEELCHECK_REFERENCE) writes data/knowledge/image-sonames/<stem>-amd64.tsv
and <stem>-arm64.tsv with columns `soname  provided_by`:

  * Debian images: the library file names in the default search path of
    exactly the packages in the image's list, taken from
    DIR/derived/debian-<release>-<arch>-files.json, which build_debian.py
    made from the Contents indexes of that release and arch (same search-path
    and soname rules as debian-<release>-<arch>-sonames.tsv).  The reference
    lists are amd64; the arm64 file assumes the same package set.
  * Alpine images: the so: provides of the image's packages in the Alpine
    3.22 main x86_64 index (carried forward to 3.23/3.24: no newer complete
    index is available).  The arm64 file is derived from it by renaming the
    musl soname libc.musl-x86_64.so.1 -> libc.musl-aarch64.so.1 (no aarch64
    index is available; the image packages are base libraries whose sonames
    do not depend on the arch otherwise).
  * Both: the libraries CPython's `make install` puts in /usr/local/lib when
    configured with --enable-shared, as the official Dockerfiles do:
    libpython3.X.so.1.0 (the soname), libpython3.X.so and libpython3.so.
"""
import argparse
import collections
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kcommon  # noqa: E402

ALPINE_DATA = "3.22"


def log(*a):
    print(*a, file=sys.stderr)


def python_libs(tag):
    m = re.search(r"python:(\d+)\.(\d+)", tag)
    if not m:
        raise SystemExit("cannot read the python version from image tag %r" % tag)
    x = "%s.%s" % (m.group(1), m.group(2))
    return ["libpython%s.so.1.0" % x, "libpython%s.so" % x, "libpython3.so"]


PY_NOTE = ("/usr/local/lib: libpython3.X.so.1.0, libpython3.X.so, libpython3.so, from CPython's `make install` "
           "with ./configure --enable-shared as in the official Dockerfiles (docker-library/python "
           "<version>/<variant>/Dockerfile; /usr/local/lib is in the loader path: Debian libc.conf, musl default); "
           "provided_by = (python build)")


def main():
    ap = argparse.ArgumentParser(description="build per-image soname sets")
    ap.add_argument("--apt-dir", default=kcommon.default_apt_dir())
    ap.add_argument("--out-dir", default=os.path.join(kcommon.OUT_DIR, "image-sonames"))
    args = ap.parse_args()
    img_dir = os.path.join(kcommon.REFERENCE, "images")
    stamp = kcommon.fetched_stamp(args.apt_dir)
    os.makedirs(args.out_dir, exist_ok=True)

    derived = {}

    def deb_files(rel, arch):
        if (rel, arch) not in derived:
            p = os.path.join(args.apt_dir, "derived", "debian-%s-%s-files.json" % (rel, arch))
            if not os.path.exists(p):
                raise SystemExit("%s missing: run build_debian.py first" % p)
            with open(p) as fh:
                derived[(rel, arch)] = json.load(fh)
        return derived[(rel, arch)]

    alp = None
    summary = []
    for f in sorted(os.listdir(img_dir)):
        if not (f.startswith("python-") and f.endswith(".tsv")):
            continue
        stem = f[:-4]
        hdr, rows = kcommon.read_reference_image(os.path.join(img_dir, f))
        tag = hdr.get("image_tag", "?")
        pm = hdr.get("package_manager")
        pylibs = python_libs(tag)
        common = ["image: %s (reference list images/%s: %s %s, created %s)" % (
            tag, f, hdr.get("source_path", "?"), hdr.get("source_commit", "?")[:12], hdr.get("created", "?"))]
        if pm == "dpkg":
            rel = "trixie" if stem.endswith("trixie") else "bookworm"
            for arch in ("amd64", "arm64"):
                d = deb_files(rel, arch)
                names = collections.defaultdict(set)
                missing, newer = [], 0
                for r in rows:
                    p = r[0]
                    if p not in d["versions"]:
                        missing.append(p)
                        continue
                    if len(r) > 1 and r[1] and r[1] != d["versions"][p]:
                        newer += 1
                    for n in d["names"].get(p, []):
                        names[n].add(p)
                for n in pylibs:
                    names[n].add("(python build)")
                out_rows = [(n, ",".join(sorted(ps))) for n, ps in sorted(names.items())]
                h = ["%s on linux/%s: shared-library file names in the default library search path" % (tag, arch)]
                h += common
                h.append("source: file lists of the image's %d packages from Debian %s main Contents-%s/-all "
                         "(+%s-updates), fetched via apt on %s; see debian-%s-%s-sonames.tsv for the index dates "
                         "and verification" % (len(rows), rel, arch, rel, stamp.get("fetched_utc", "?"), rel, arch))
                h.append("generated: %s by scripts/knowledge/build_images.py" % kcommon.today())
                h.append("rule: search path = %s; names = files matching NAME.so or NAME.so.<digit>... "
                         "plus update-alternatives links; every package of the list counts (incl. -dev)"
                         % " ".join(d["search_path"]))
                if arch != "amd64":
                    h.append("assumption: the reference package list is the amd64 image's; the arm64 image is "
                             "assumed to hold the same packages")
                h.append("note: %d of the listed packages have a different version in the index than in the "
                         "image list (file lists are those of the index version)" % newer)
                h.append("packages of the list not in the index: %s" % (" ".join(missing) or "none"))
                h.append(PY_NOTE)
                h.append("counts: %d names from %d packages" % (len(out_rows), len(rows)))
                out = os.path.join(args.out_dir, "%s-%s.tsv" % (stem, arch))
                kcommon.write_tsv(out, h, ["soname", "provided_by"], out_rows)
                summary.append((os.path.basename(out), len(out_rows), missing))
        elif pm == "apk":
            if alp is None:
                idx = kcommon.alpine_index_path(ALPINE_DATA)
                desc, recs = kcommon.read_apkindex(idx)
                alp = (desc, {r["P"]: r for r in recs}, kcommon.sha256_file(idx))
            desc, recs, sha = alp
            names = collections.defaultdict(set)
            missing = []
            for r in rows:
                p = r[0]
                rec = recs.get(p)
                if rec is None:
                    missing.append(p)
                    continue
                for soname, tok in kcommon.apk_so_provides(rec):
                    names[soname].add(p)
            for n in pylibs:
                names[n].add("(python build)")
            m = re.search(r"alpine(\d+\.\d+)", tag)
            img_rel = m.group(1) if m else "?"
            for arch in ("amd64", "arm64"):
                nn = {}
                for n, ps in names.items():
                    if arch == "arm64" and n == "libc.musl-x86_64.so.1":
                        n = "libc.musl-aarch64.so.1"
                    nn[n] = ps
                out_rows = [(n, ",".join(sorted(ps))) for n, ps in sorted(nn.items())]
                h = ["%s on linux/%s: sonames the image's packages provide (apk so: provides)" % (tag, arch)]
                h += common
                h.append("source: Alpine v%s main x86_64 APKINDEX (DESCRIPTION %s, sha256 %s) in the shared "
                         "reference folder alpine/apkindex/" % (ALPINE_DATA, desc, sha))
                h.append("carried forward: the image is Alpine %s; no complete index newer than %s is available, "
                         "so each package's so: provides are taken from %s (same package names)"
                         % (img_rel, ALPINE_DATA, ALPINE_DATA))
                if arch == "arm64":
                    h.append("derived: no aarch64 index available; x86_64 provides with libc.musl-x86_64.so.1 "
                             "renamed to libc.musl-aarch64.so.1; assumes the same package set as the amd64 list")
                h.append("generated: %s by scripts/knowledge/build_images.py" % kcommon.today())
                h.append("packages of the list not in the %s index (their sonames are missing here): %s"
                         % (ALPINE_DATA, " ".join(missing) or "none"))
                h.append(PY_NOTE)
                h.append("counts: %d names from %d packages" % (len(out_rows), len(rows)))
                out = os.path.join(args.out_dir, "%s-%s.tsv" % (stem, arch))
                kcommon.write_tsv(out, h, ["soname", "provided_by"], out_rows)
                summary.append((os.path.basename(out), len(out_rows), missing))
    for name, n, missing in summary:
        log("%-40s %5d names; missing packages: %s" % (name, n, " ".join(missing) or "-"))


if __name__ == "__main__":
    main()
