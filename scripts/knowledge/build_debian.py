#!/usr/bin/env python3
"""Build the Debian soname -> package maps and package tables.

Usage:
    python3 scripts/knowledge/fetch_debian_indexes.py      # first (network, apt)
    python3 scripts/knowledge/build_debian.py [--apt-dir DIR] [--release R ...] [--arch A ...]

Writes, for R in {bookworm, trixie} and A in {amd64, arm64}:
    data/knowledge/debian-R-A-sonames.tsv
        soname  package  installed_size_kib  alternatives  how
    data/knowledge/debian-R-A-packages.tsv
        package  version  installed_size_kib  depends  provides
and a cache DIR/derived/debian-R-A-files.json used by build_images.py
(every search-path library file name of every package).

Inputs (all from the private apt tree made by fetch_debian_indexes.py):
  * Packages indexes of R, R-updates, R-security (main, A); for every package
    the highest version over the three suites is used.
  * Contents-A and Contents-all of R and R-updates (main).  The security
    archive publishes empty Contents files, so packages whose newest version
    is a security update are described by the file list of the version in R.
  * A few .deb files fetched with `apt-get download` (cached as JSON facts in
    DIR/debinfo/, the .deb itself is deleted): packages that ship
    etc/ld.so.conf.d/*.conf (to learn which extra directories they add to
    the search path), packages that may register library names with
    update-alternatives (BLAS/LAPACK style), and all candidates of sonames
    shipped by more than one package (to read their shlibs/symbols files).

Rules (also written into the header of every output file):
  * Search path: lib/<triplet>, usr/lib/<triplet>, lib, usr/lib (glibc's
    built-in system dirs on Debian, as `ld.so --help` prints), plus every
    directory listed in an etc/ld.so.conf.d/*.conf shipped by a package of
    that release/arch, if it is one of those dirs or below lib/<triplet> or
    usr/lib/<triplet> (this drops the biarch lib32/libx32 dirs of
    libc6-i386/libc6-x32 and usr/local).  glibc-hwcaps/ and legacy hwcap
    subdirectories are not counted (they only hold optimised duplicates).
  * A "soname" is every file name in those directories that matches
    NAME.so or NAME.so.<digit>... (file or symlink, as Contents lists both),
    so the full-version file (libfoo.so.1.2.3) appears next to the soname
    link (libfoo.so.1); the dynamic loader looks DT_NEEDED names up by file
    name, so a name is satisfiable iff such a file exists.
  * Plus names created by update-alternatives in a package's postinst when
    the link is in the search path (e.g. libblas.so.3 -> blas/libblas.so.3).
  * Package chosen for a name: packages whose name ends in -dev, -dbg,
    -dbgsym or -debug, or contains -dev-, are never chosen (names only they
    ship are left out of the map).  If one package remains: that package
    (how=file).  If several: the shlibs and symbols control files of all of
    them are read and the first package of the dependency they declare for
    that soname wins, as dpkg-shlibdeps would write it (how=shlibs; majority
    if they disagree, ties -> the declaration that names one of the
    candidates, then alphabetical).  If none declares the soname: prefer a
    candidate that no other candidate Provides-replaces, then section libs,
    then the shortest name, then alphabetical (how=tiebreak).
    `alternatives` lists all other non-dev packages that ship the name.
"""
import argparse
import collections
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kcommon  # noqa: E402

SO_RE = re.compile(r"^[^/]+\.so(\.[0-9][0-9A-Za-z_+~-]*)*$")
VERSIONED_LIB_RE = re.compile(r"^lib[^/]*\.so\.[0-9]")
DEV_RE = re.compile(r"(-dev|-dbg|-dbgsym|-debug)$|-dev-")


def log(*a):
    print(*a, file=sys.stderr)


def is_dev(pkg):
    return bool(DEV_RE.search(pkg))


def parse_dep_names(field):
    """All package names in a Depends-like field."""
    out = []
    for group in field.split(","):
        for alt in group.split("|"):
            alt = alt.strip()
            if not alt:
                continue
            name = re.split(r"[\s(\[<]", alt, 1)[0]
            name = name.split(":", 1)[0]
            if name:
                out.append(name)
    return out


def load_packages(apt_dir, rel, arch):
    best = {}
    for suite in (rel, rel + "-updates", rel + "-security"):
        files = kcommon.find_lists(apt_dir, suite, "main_binary-%s_Packages" % arch)
        for f in files:
            with kcommon.open_index(f) as fh:
                for rec in kcommon.parse_deb822(fh):
                    name = rec.get("Package")
                    ver = rec.get("Version")
                    if not name or not ver:
                        continue
                    rec["_suite"] = suite
                    cur = best.get(name)
                    if cur is None or kcommon.vercmp(ver, cur["Version"]) > 0:
                        best[name] = rec
    if not best:
        sys.exit("no Packages index for %s %s in %s (run fetch_debian_indexes.py)" % (rel, arch, apt_dir))
    return best


def read_contents(path, triplet, want_conf=True):
    """{pkg: [(dir, base), ...]} for library-looking files under lib/, usr/lib/
    (top level and the triplet tree), plus {pkg: [conf paths]}."""
    files = collections.defaultdict(list)
    confs = collections.defaultdict(list)
    tl = ("lib/%s/" % triplet, "usr/lib/%s/" % triplet)
    with kcommon.open_index(path) as fh:
        for line in fh:
            c = line[0]
            if c == "l" or c == "u":
                if not (line.startswith("usr/lib/") or line.startswith("lib/")):
                    continue
                if ".so" not in line:
                    continue
                try:
                    fpath, pkgs = line.rstrip("\n").rsplit(None, 1)
                except ValueError:
                    continue
                d, _, base = fpath.rpartition("/")
                if not SO_RE.match(base):
                    continue
                if not (d in ("lib", "usr/lib") or (d + "/").startswith(tl)):
                    continue
                for p in pkgs.split(","):
                    files[p.rsplit("/", 1)[-1]].append((d, base))
            elif c == "e" and want_conf and line.startswith("etc/ld.so.conf.d/"):
                fpath, pkgs = line.rstrip("\n").rsplit(None, 1)
                for p in pkgs.split(","):
                    confs[p.rsplit("/", 1)[-1]].append(fpath)
    return files, confs


def contents_sources(apt_dir, rel, arch, stamp):
    out = []
    for suite in (rel, rel + "-updates"):
        for a in (arch, "all"):
            name = "%s_main_Contents-%s.gz" % (suite, a)
            p = os.path.join(apt_dir, "contents", name)
            if os.path.exists(p):
                st = stamp.get("contents", {}).get(name, {})
                out.append((suite, a, p, st.get("verified", False)))
    return out


def load_files(apt_dir, rel, arch, pkgs, stamp):
    triplet = kcommon.TRIPLET[arch]
    main_files = collections.defaultdict(list)
    upd_files = collections.defaultdict(list)
    confs = collections.defaultdict(list)
    srcs = contents_sources(apt_dir, rel, arch, stamp)
    for suite, a, p, verified in srcs:
        log("reading", os.path.basename(p))
        f, c = read_contents(p, triplet)
        target = main_files if suite == rel else upd_files
        for k, v in f.items():
            target[k].extend(v)
        for k, v in c.items():
            confs[k].extend(v)
    files = dict(main_files)
    for p, v in upd_files.items():
        rec = pkgs.get(p)
        if rec is None or rec["_suite"] != rel or p not in files:
            files[p] = v
    # only packages that exist in the Packages indexes
    files = {p: sorted(set(v)) for p, v in files.items() if p in pkgs}
    confs = {p: sorted(set(v)) for p, v in confs.items() if p in pkgs}
    return files, confs, srcs


def shlibs_decl(info, soname):
    """First package named by the shlibs/symbols declaration for soname, or None."""
    m = re.match(r"^(.*)\.so\.(.*)$", soname)
    if m:
        lib, ver = m.group(1), m.group(2)
    else:
        m = re.match(r"^(.*)-(\d.*)\.so$", soname)
        lib, ver = (m.group(1), m.group(2)) if m else (None, None)
    deps = []
    for line in info.get("symbols_headers", []):
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0] == soname:
            deps.append(parts[1].replace("#MINVER#", ""))
    if lib is not None:
        for line in info.get("shlibs", []):
            m = re.match(r"^\s*(?:(\S+):\s+)?(\S+)\s+(\S+)(?:\s+(\S.*?))?\s*$", line)
            if not m or m.group(1) == "udeb":
                continue
            if m.group(2) == lib and m.group(3) == ver and m.group(4):
                deps.append(m.group(4))
    for d in deps:
        names = parse_dep_names(d)
        if names:
            return names[0]
    return None


def tiebreak_key(pkgs, c):
    return (0 if pkgs[c].get("Section", "").split("/")[-1] == "libs" else 1, len(c), c)


def resolve(so, cands, pkgs, info, resolved):
    """Pick one package for a name shipped by several non-dev packages."""
    decl = {}
    for c in cands:
        n = shlibs_decl(info(c), so)
        if n:
            decl[c] = n
    # 1. candidates whose own symbols/shlibs file names themselves
    selfd = [c for c in cands if decl.get(c) == c]
    if selfd:
        best = selfd[0]
        for c in selfd[1:]:
            v = kcommon.vercmp(pkgs[c]["Version"], pkgs[best]["Version"])
            if v > 0 or (v == 0 and tiebreak_key(pkgs, c) < tiebreak_key(pkgs, best)):
                best = c
        return best, "shlibs"
    # 2. what the candidates declare (majority), if it is a real package
    if decl:
        votes = collections.Counter(decl.values())
        top = max(votes.values())
        best = sorted(n for n, v in votes.items() if v == top)
        in_c = [n for n in best if n in cands]
        pick = in_c[0] if in_c else best[0]
        if pick in pkgs:
            return pick, "shlibs"
    # 3. a longer file name of a resolved soname (libfoo.so.1.2.3 after libfoo.so.1)
    parts = so.split(".")
    for i in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:i])
        if prefix in resolved and resolved[prefix][0] in cands:
            return resolved[prefix][0], "as:" + prefix
    # 4. heuristic
    providers = set(c for c in cands
                    if any(n in cands and n != c for n in parse_dep_names(pkgs[c].get("Provides", ""))))
    pool = [c for c in cands if c not in providers] or cands
    pool.sort(key=lambda c: tiebreak_key(pkgs, c))
    return pool[0], "tiebreak"


def build(apt_dir, rel, arch, stamp, out_dir):
    triplet = kcommon.TRIPLET[arch]
    pkgs = load_packages(apt_dir, rel, arch)
    files, confs, srcs = load_files(apt_dir, rel, arch, pkgs, stamp)
    debinfo = {}

    def info(p):
        if p not in debinfo:
            debinfo[p] = kcommon.deb_info(apt_dir, p, pkgs[p]["Version"], arch, log=log)
        return debinfo[p]

    # --- search path
    base_dirs = ["lib/%s" % triplet, "usr/lib/%s" % triplet, "lib", "usr/lib"]
    search = set(base_dirs)
    conf_notes = []
    for p in sorted(confs):
        inf = info(p)
        for cpath, dirs in sorted(inf["ld_so_conf"].items()):
            for d in dirs:
                if d.startswith("include"):
                    continue
                dd = d.strip("/")
                ok = dd in base_dirs or any(dd.startswith(b + "/") for b in base_dirs[:2])
                conf_notes.append("%s:%s -> /%s %s" % (p, cpath, dd, "counted" if ok else "ignored"))
                if ok:
                    search.add(dd)

    # --- names per package in the search path
    names = collections.defaultdict(set)      # soname -> packages (all, incl. dev)
    via_alt = collections.defaultdict(set)    # soname -> packages that create it via update-alternatives
    for p, lst in files.items():
        for d, base in lst:
            if d in search:
                names[base].add(p)

    # --- update-alternatives candidates: same basename in non-search triplet
    # subdirs of >= 2 non-dev packages
    sub = collections.defaultdict(set)
    for p, lst in files.items():
        if is_dev(p):
            continue
        for d, base in lst:
            if d not in search and d not in ("lib", "usr/lib") and VERSIONED_LIB_RE.match(base):
                sub[base].add(p)
    alt_cands = sorted(set().union(*[ps for ps in sub.values() if len(ps) >= 2]) if sub else set())
    alt_notes = []
    for p in alt_cands:
        inf = info(p)
        shipped = set("/" + d + "/" + b for d, b in files.get(p, []))
        for link, name, target in inf["alternatives"]:
            ld, _, lb = link.strip("/").rpartition("/")
            if ld in search and SO_RE.match(lb) and target in shipped:
                names[lb].add(p)
                via_alt[lb].add(p)
                alt_notes.append("%s: %s -> %s" % (p, link, target))

    # --- choose
    rows = []
    counts = collections.Counter()
    resolved = {}
    for so in sorted(names):
        cands = sorted(c for c in names[so] if not is_dev(c))
        if not cands:
            counts["dev-only (left out)"] += 1
            continue
        how = "file"
        if len(cands) == 1:
            chosen = cands[0]
        else:
            chosen, how = resolve(so, cands, pkgs, info, resolved)
        resolved[so] = (chosen, how)
        if so in via_alt:
            how = "alt:" + how
        counts[re.sub(r"as:.*", "as:<name>", how)] += 1
        alts = [c for c in cands if c != chosen]
        isize = pkgs[chosen].get("Installed-Size", "")
        rows.append((so, chosen, isize, ",".join(alts) if alts else "-", how))

    # --- files cache for build_images.py
    derived = os.path.join(apt_dir, "derived")
    os.makedirs(derived, exist_ok=True)
    pkg_names = {}
    for p, lst in files.items():
        s = sorted(set(b for d, b in lst if d in search))
        if s:
            pkg_names[p] = s
    for so, ps in via_alt.items():
        for p in ps:
            pkg_names.setdefault(p, [])
            if so not in pkg_names[p]:
                pkg_names[p].append(so)
    with open(os.path.join(derived, "debian-%s-%s-files.json" % (rel, arch)), "w") as fh:
        json.dump({"search_path": sorted(search), "names": pkg_names,
                   "versions": {p: r["Version"] for p, r in pkgs.items()}}, fh)

    # --- header
    fetched = stamp.get("fetched_utc", "?")
    src_lines = []
    for suite in (rel, rel + "-updates", rel + "-security"):
        src_lines.append("source: Debian %s main Packages-%s (InRelease Date: %s), fetched via apt on %s"
                         % (suite, arch, kcommon.release_date(apt_dir, suite), fetched))
    for suite, a, p, verified in srcs:
        src_lines.append("source: Debian %s main Contents-%s, fetched via apt-helper on %s; %s" % (
            suite, a, fetched, "sha256 matches the InRelease" if verified else
            "UNVERIFIED: the archive served a file whose sha256 differs from its InRelease (mirror mid-sync)"))
    src_lines.append("source: control data (shlibs, symbols, postinst) and etc/ld.so.conf.d files of %d .deb files "
                     "fetched with apt-get download (the ld.so.conf.d shippers, %d update-alternatives "
                     "candidates, and the candidates of every name shipped by several packages)"
                     % (len(debinfo), len(alt_cands)))
    rules = [
        "rule: search path = %s (glibc system dirs + Debian ld.so.conf.d dirs that lie in them or below "
        "<usr/>lib/%s; biarch lib32/libx32, usr/local and glibc-hwcaps subdirs not counted)" % (
            " ".join(sorted(search)), triplet),
        "rule: soname = any file name in the search path matching NAME.so or NAME.so.<digit>... "
        "(Contents lists files and symlinks), plus update-alternatives links made by postinst scripts",
        "rule: never a package named *-dev, *-dbg, *-dbgsym, *-debug or *-dev-*; names only such packages ship are "
        "omitted",
        "rule: how=file: one non-dev package ships the name; how=shlibs: several do, and their symbols (else "
        "shlibs) control files decide as dpkg-shlibdeps reads them: a candidate that declares itself wins "
        "(several: highest version, then section libs, shortest name, alphabetical), else the package most "
        "of them declare (first alternative of the dependency; may be a metapackage such as libopenblas0); "
        "how=as:<name>: nobody declares this longer file name, same package as the resolved <name>; "
        "how=tiebreak: no declaration -> not a Provides-replacement, section libs, shortest name, alphabetical; "
        "prefix alt: = the search-path name is an update-alternatives link made by postinst",
        "rule: packages: highest version over %s, %s-updates, %s-security; file lists of the %s or %s-updates "
        "Contents (security publishes none)" % (rel, rel, rel, rel, rel),
    ]
    for n in conf_notes:
        rules.append("ld.so.conf.d: " + n)
    for n in alt_notes:
        rules.append("update-alternatives: " + n)
    summary = "counts: %d sonames; %s" % (len(rows), ", ".join("%s=%d" % kv for kv in sorted(counts.items())))
    hdr = ["Debian %s %s: shared-library file names in the default library search path -> binary package" % (rel, arch)]
    hdr += src_lines + ["generated: %s by scripts/knowledge/build_debian.py" % kcommon.today()] + rules + [summary]
    out = os.path.join(out_dir, "debian-%s-%s-sonames.tsv" % (rel, arch))
    kcommon.write_tsv(out, hdr, ["soname", "package", "installed_size_kib", "alternatives", "how"], rows)
    log("wrote", out, len(rows), "rows")
    return pkgs, rows


def dep_closure(pkgs, start):
    provides = collections.defaultdict(set)
    for p, r in pkgs.items():
        for n in parse_dep_names(r.get("Provides", "")):
            provides[n].add(p)
    seen = set()
    todo = [p for p in start if p in pkgs]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        r = pkgs[p]
        for field in ("Pre-Depends", "Depends"):
            for n in parse_dep_names(r.get(field, "")):
                if n in pkgs:
                    todo.append(n)
                for q in provides.get(n, ()):
                    todo.append(q)
    return seen


def image_packages(rel):
    out = set()
    d = os.path.join(kcommon.REFERENCE, "images")
    for f in sorted(os.listdir(d)):
        if not f.endswith(".tsv"):
            continue
        path = os.path.join(d, f)
        hdr = open(path).read()
        if "package_manager: dpkg" not in hdr:
            continue
        if not f.endswith("-%s.tsv" % rel):
            continue
        for line in open(path):
            if line.startswith("#") or not line.strip():
                continue
            out.add(line.split("\t", 1)[0])
    return out


def write_packages(apt_dir, rel, arch, pkgs, rows, stamp, out_dir):
    start = set()
    for so, p, _, alts, _ in rows:
        start.add(p)
        if alts != "-":
            start.update(alts.split(","))
    imgs = image_packages(rel)
    start |= imgs
    keep = dep_closure(pkgs, start)
    missing = sorted(p for p in imgs if p not in pkgs)
    out = []
    for p in sorted(keep):
        r = pkgs[p]
        deps = ", ".join(x for x in (r.get("Pre-Depends", ""), r.get("Depends", "")) if x)
        deps = re.sub(r"\s+", " ", deps)
        prov = re.sub(r"\s+", " ", r.get("Provides", ""))
        out.append((p, r["Version"], r.get("Installed-Size", ""), deps or "-", prov or "-"))
    fetched = stamp.get("fetched_utc", "?")
    hdr = ["Debian %s %s: binary packages (version, Installed-Size in KiB, Pre-Depends+Depends, Provides)" % (rel, arch)]
    for suite in (rel, rel + "-updates", rel + "-security"):
        hdr.append("source: Debian %s main Packages-%s (InRelease Date: %s), fetched via apt on %s"
                   % (suite, arch, kcommon.release_date(apt_dir, suite), fetched))
    hdr += ["generated: %s by scripts/knowledge/build_debian.py" % kcommon.today(),
            "rule: highest version over the three suites; rows = every package named in debian-%s-%s-sonames.tsv "
            "(chosen or alternative) or in a reference image list of %s, closed over Pre-Depends/Depends "
            "(every alternative of an | group, every provider of a virtual name)" % (rel, arch, rel),
            "rule: depends = Pre-Depends then Depends, verbatim (Pre-Depends first)",
            "counts: %d packages (of %d in the indexes)" % (len(out), len(pkgs)),
            "image packages not in this index: %s" % (" ".join(missing) or "none")]
    path = os.path.join(out_dir, "debian-%s-%s-packages.tsv" % (rel, arch))
    kcommon.write_tsv(path, hdr, ["package", "version", "installed_size_kib", "depends", "provides"], out)
    log("wrote", path, len(out), "rows")


def main():
    ap = argparse.ArgumentParser(description="build Debian soname maps")
    ap.add_argument("--apt-dir", default=kcommon.default_apt_dir())
    ap.add_argument("--release", action="append", choices=["bookworm", "trixie"])
    ap.add_argument("--arch", action="append", choices=["amd64", "arm64"])
    ap.add_argument("--out-dir", default=kcommon.OUT_DIR)
    args = ap.parse_args()
    stamp = kcommon.fetched_stamp(args.apt_dir)
    for rel in args.release or ["bookworm", "trixie"]:
        for arch in args.arch or ["amd64", "arm64"]:
            pkgs, rows = build(args.apt_dir, rel, arch, stamp, args.out_dir)
            write_packages(args.apt_dir, rel, arch, pkgs, rows, stamp, args.out_dir)


if __name__ == "__main__":
    main()
