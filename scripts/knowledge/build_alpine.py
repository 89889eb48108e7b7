#!/usr/bin/env python3
"""Build the Alpine soname -> apk package map and package table.

Usage:
    python3 scripts/knowledge/build_alpine.py [--release 3.22]

No network: reads the reference data in /work/shared/reference/alpine/
(override the root with $WHEELCHECK_REFERENCE):
  * apkindex/v<release>-main-x86_64.APKINDEX.tar.gz - Alpine's signed main
    index (the signature is re-checked with openssl when available);
  * so-provides-curated.tsv - hand-checked rows; only its community rows are
    used here (main comes straight from the index);
  * so-provides-<release>-x86_64-community-spot.tsv - spot reads of the
    community index (namespaced provides such as so:openblas:libopenblas.so.3).

Writes:
  data/knowledge/alpine-<release>-sonames.tsv
      soname  package  so_name  origin  repo  installed_size_kib  alternatives  evidence
      so_name is the provide token: `apk add <so_name>` installs it, except
      namespaced ones (so:<prefix>:<soname>) which only satisfy that exact
      name; the file itself still satisfies a DT_NEEDED of <soname>.
  data/knowledge/alpine-<release>-packages.tsv
      package  version  installed_size_kib  depends  provides
      (main, every package; provides keeps so: and plain virtual names only)

Rules: one row per (soname, package), sorted by soname then package; when
several packages provide a soname each has a row and names the others in
`alternatives` (the tool should prefer a main-repo row whose so_name is the
plain so:<soname>).  Sonames provided by nothing in our data are absent.  Data is
for x86_64; the newest complete index is 3.22 and python:*-alpine3.23/3.24
images use it carried forward (see data/knowledge/README.md).
"""
import argparse
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kcommon  # noqa: E402


def log(*a):
    print(*a, file=sys.stderr)


def read_tsv(path):
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            rows.append(line.rstrip("\n").split("\t"))
    return rows


def main():
    ap = argparse.ArgumentParser(description="build Alpine soname map")
    ap.add_argument("--release", default="3.22")
    ap.add_argument("--out-dir", default=kcommon.OUT_DIR)
    args = ap.parse_args()
    rel = args.release
    idx = kcommon.alpine_index_path(rel)
    desc, recs = kcommon.read_apkindex(idx)
    sig = kcommon.verify_apkindex(idx)
    sha = kcommon.sha256_file(idx)
    log("index", idx, desc, len(recs), "packages;", sig)

    providers = collections.defaultdict(list)  # soname -> [(pkg, token, origin, size)]
    for r in recs:
        for soname, tok in kcommon.apk_so_provides(r):
            providers[soname].append((r["P"], tok, r.get("o", ""), int(r.get("I", "0") or 0) // 1024))
    rows = []
    for soname in sorted(providers):
        lst = sorted(providers[soname])
        names = [x[0] for x in lst]
        for pkg, tok, origin, size in lst:
            others = [n for n in names if n != pkg]
            rows.append((soname, pkg, tok, origin, "main", size, ",".join(others) or "-",
                         "index v%s main x86_64" % rel))
    main_sonames = set(providers)

    # community: spot-read rows (real provide tokens) then curated rows
    ref = os.path.join(kcommon.REFERENCE, "alpine")
    community = {}
    spot = os.path.join(ref, "so-provides-%s-x86_64-community-spot.tsv" % rel)
    if os.path.exists(spot):
        for r in read_tsv(spot):
            so, pkg, origin, ver, how = (r + [""] * 5)[:5]
            if pkg in ("(none)", "-", ""):
                continue
            plain = so.split(":", 1)[1] if ":" in so else so
            ev = "community spot read (%s)" % ("provides line read" if how.startswith("p:") else
                                                 "unverified: seen only as a dependency")
            community[(plain, pkg)] = (plain, pkg, "so:" + so, origin, "community", "?", "-", ev)
    cur = os.path.join(ref, "so-provides-curated.tsv")
    for r in read_tsv(cur):
        so, pkg, origin, repo, ev = (r + [""] * 5)[:5]
        if repo != "community" or pkg in ("(none)", "-", ""):
            continue
        if so in main_sonames:
            continue
        if (so, pkg) in community:
            continue
        verified = not ev.startswith("unverified")
        community[(so, pkg)] = (so, pkg, "so:" + so, origin, "community", "?", "-",
                                "curated table (%s)" % ("provides line read" if verified else
                                                        "unverified provider name"))
    for key in sorted(community):
        rows.append(community[key])
    rows.sort(key=lambda r: (r[0], r[1]))
    by_so = collections.defaultdict(list)
    for r in rows:
        by_so[r[0]].append(r[1])
    rows = [r[:6] + (",".join(n for n in by_so[r[0]] if n != r[1]) or "-",) + r[7:] for r in rows]

    hdr = [
        "Alpine %s x86_64: soname -> apk package that provides it (main complete, community partial)" % rel,
        "source: Alpine v%s main x86_64 APKINDEX.tar.gz (DESCRIPTION %s; %d packages; sha256 %s; signature: %s), "
        "copy in the shared reference folder alpine/apkindex/" % (rel, desc, len(recs), sha, sig),
        "source: shared reference alpine/so-provides-%s-x86_64-community-spot.tsv and so-provides-curated.tsv "
        "(community rows only; see that folder's README for how they were read)" % rel,
        "generated: %s by scripts/knowledge/build_alpine.py" % kcommon.today(),
        "rule: every so: token of every p: line of the main index; namespaced tokens (so:<prefix>:<soname>) are "
        "listed under the plain soname with the full token in so_name: `apk add so:<soname>` does NOT find them",
        "rule: community coverage is partial; sonames provided by no package in these data are absent",
        "carried forward: no complete index exists here for 3.23/3.24; the python:*-alpine3.23 and -alpine3.24 "
        "images are answered with this %s data (package names are stable across releases; sonames with a "
        "version in the name, e.g. libicuuc.so.76, may differ)" % rel,
        "arch: x86_64 only; on aarch64 the musl soname is libc.musl-aarch64.so.1 and libquadmath.so.0 does not "
        "exist (see the shared alpine README)",
        "counts: %d rows, %d sonames" % (len(rows), len(set(r[0] for r in rows))),
    ]
    out = os.path.join(args.out_dir, "alpine-%s-sonames.tsv" % rel)
    kcommon.write_tsv(out, hdr, ["soname", "package", "so_name", "origin", "repo", "installed_size_kib",
                                 "alternatives", "evidence"], rows)
    log("wrote", out, len(rows))

    prow = []
    for r in sorted(recs, key=lambda r: r["P"]):
        prov = [t for t in kcommon.apk_tokens(r.get("p"))
                if not t.startswith(("cmd:", "pc:", "py3", "py:"))]
        prow.append((r["P"], r.get("V", ""), int(r.get("I", "0") or 0) // 1024,
                     " ".join(kcommon.apk_tokens(r.get("D"))) or "-", " ".join(prov) or "-"))
    hdr2 = [
        "Alpine %s main x86_64: apk packages (version, installed size KiB = I:/1024, D: depends, p: provides)" % rel,
        hdr[1],
        "generated: %s by scripts/knowledge/build_alpine.py" % kcommon.today(),
        "rule: depends verbatim (so:, pc:, cmd:, name, !conflict); provides without cmd:, pc:, py3*: tokens",
        hdr[6],
        "counts: %d packages" % len(prow),
    ]
    out2 = os.path.join(args.out_dir, "alpine-%s-packages.tsv" % rel)
    kcommon.write_tsv(out2, hdr2, ["package", "version", "installed_size_kib", "depends", "provides"], prow)
    log("wrote", out2, len(prow))


if __name__ == "__main__":
    main()
