#!/usr/bin/env python3
"""Write data/build-needs.toml: what building an sdist needs, per distribution.

Input: scripts/knowledge/build_needs_input.toml (hand-curated: toolchains, build backends, native
sdists; see its header for the schema).

Checks, all of which must pass before anything is written (exit 1 otherwise):
  1. Every package name is found in a source, in this order:
       table      data/knowledge/debian-{bookworm,trixie}-amd64-packages.tsv or
                  data/knowledge/alpine-3.22-packages.tsv (the generated tables);
       index      Debian only: the full main Packages index of that release (rel, rel-updates,
                  rel-security, amd64) in the private apt tree of fetch_debian_indexes.py, the
                  apt-verified index the tables are made from (the tables only hold the packages
                  reachable from the soname maps and the image lists);
       reference  Alpine community only: a P:<name> V: line quoted in the shared reference's
                  alpine/build-deps.tsv, or a 'p:' row of alpine/so-provides-3.22-x86_64-community-spot.tsv;
     or it is listed under [unverified.<distro>] with a reason. Debian names are checked in every
     release they are used for (generic lists in bookworm and trixie, overrides in their release).
  2. Every runtime package of an entry is reachable from the entry's build packages (plus its
     toolchain groups and backends) through Depends/Pre-Depends (Debian; every alternative, virtual
     names through Provides) or D: (Alpine main; so:/pc:/cmd: through the provides of the raw
     signed index), unless the entry has a runtime_unchecked reason. The dependency path is written
     to the entry's evidence.
  3. Image variants: for each official image in the shared reference images/*.tsv, the toolchain
     and -dev packages it already has are computed, per variant (slim/full/alpine) and release.

Usage: python3 scripts/knowledge/build_build_needs.py [--apt-dir DIR] [--check]
  --apt-dir DIR  private apt tree (default $WHEELCHECK_APT_DIR or /work/scratch/apt)
  --check        verify and compare with the existing data/build-needs.toml; write nothing
Python 3.11+ (tomllib), standard library only.
"""
import argparse
import collections
import os
import re
import sys
import tomllib

import kcommon as k

INPUT = os.path.join(k.HERE, "build_needs_input.toml")
OUTPUT = os.path.join(k.REPO, "data", "build-needs.toml")
DEBIAN_RELEASES = ["bookworm", "trixie"]  # oldest first; the last is used for unknown releases
ALPINE_RELEASE = "3.22"
USES = ("cxx", "fortran", "kernel_headers", "pkg_config")
# Image packages that count as toolchain even without a -dev suffix.
TOOLCHAIN_NAMES = {
    "autoconf", "automake", "binutils", "build-base", "build-essential", "bison", "cmake", "cpp",
    "dpkg-dev", "file", "flex", "fortify-headers", "g++", "gcc", "gfortran", "libc6-dev", "libtool",
    "linux-headers", "linux-libc-dev", "make", "meson", "musl-dev", "ninja-build", "patch",
    "pkg-config", "pkgconf", "pkgconf-bin", "rust", "rustc", "cargo", "samurai", "swig",
}


def fail(errors):
    for e in errors:
        print("error: " + e, file=sys.stderr)
    print("%d error(s); nothing written" % len(errors), file=sys.stderr)
    sys.exit(1)


# ---------------------------------------------------------------- package databases
class Db:
    """Packages of one distribution release: name -> (version, [dep groups], provides)."""

    def __init__(self, label):
        self.label = label
        self.pkgs = {}        # name -> {"version", "deps": [[alt, ...], ...], "source"}
        self.providers = collections.defaultdict(set)  # virtual/so:/pc:/cmd: token -> packages

    def has(self, name):
        return name in self.pkgs

    def version(self, name):
        return self.pkgs[name]["version"]


def parse_debian_depends(text):
    groups = []
    for grp in (text or "").split(","):
        grp = grp.strip()
        if not grp or grp == "-":
            continue
        alts = []
        for alt in grp.split("|"):
            name = alt.strip().split(" ", 1)[0].split("(", 1)[0].strip()
            name = name.split(":", 1)[0]  # python3:any
            if name:
                alts.append(name)
        if alts:
            groups.append(alts)
    return groups


def add_debian(db, name, version, depends, provides, source):
    db.pkgs[name] = {"version": version, "deps": parse_debian_depends(depends), "source": source}
    for p in (provides or "").split(","):
        p = p.strip().split(" ", 1)[0]
        if p and p != "-":
            db.providers[p].add(name)


def load_debian_table(release):
    path = os.path.join(k.OUT_DIR, "debian-%s-amd64-packages.tsv" % release)
    db = Db("debian %s table" % release)
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            add_debian(db, cols[0], cols[1], cols[3], cols[4], "table")
    return db, path


def load_debian_index(apt_dir, release):
    """Full Packages index (highest version over rel, -updates, -security), or None."""
    if not os.path.isdir(k.lists_dir(apt_dir)):
        return None, []
    db = Db("debian %s index" % release)
    best = {}
    used = []
    for suite in (release, release + "-updates", release + "-security"):
        for path in k.find_lists(apt_dir, suite, "main_binary-amd64_Packages"):
            used.append((suite, k.release_date(apt_dir, suite)))
            with k.open_index(path) as fh:
                for rec in k.parse_deb822(fh):
                    n = rec.get("Package")
                    if not n:
                        continue
                    if n in best and k.vercmp(rec.get("Version", "0"), best[n]["Version"]) <= 0:
                        continue
                    best[n] = rec
    if not best:
        return None, []
    for n, rec in best.items():
        deps = ", ".join(x for x in (rec.get("Pre-Depends", ""), rec.get("Depends", "")) if x)
        add_debian(db, n, rec["Version"], deps, rec.get("Provides", ""), "index")
    return db, sorted(set(used))


def apk_name(token):
    return re.split(r"[=<>~]", token, 1)[0]


def load_alpine():
    """(table db, raw index db with so:/pc:/cmd: providers, description, table path)."""
    path = os.path.join(k.OUT_DIR, "alpine-%s-packages.tsv" % ALPINE_RELEASE)
    table = Db("alpine %s table" % ALPINE_RELEASE)
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            table.pkgs[cols[0]] = {"version": cols[1], "deps": [], "source": "table"}
    raw = Db("alpine %s index" % ALPINE_RELEASE)
    idx_path = k.alpine_index_path(ALPINE_RELEASE)
    desc, recs = k.read_apkindex(idx_path)
    for r in recs:
        deps = [[apk_name(t)] for t in k.apk_tokens(r.get("D")) if not t.startswith("!")]
        raw.pkgs[r["P"]] = {"version": r.get("V", "?"), "deps": deps, "source": "index"}
        for t in k.apk_tokens(r.get("p")):
            raw.providers[apk_name(t)].add(r["P"])
    return table, raw, desc, path, idx_path


def load_alpine_reference():
    """Alpine community names quoted in the shared reference: name -> evidence."""
    out = {}
    ref = os.path.join(k.REFERENCE, "alpine")
    with open(os.path.join(ref, "build-deps.tsv"), encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            for m in re.finditer(r"P:([A-Za-z0-9._+-]+) V:(\S+)", line):
                out[m.group(1)] = "alpine/build-deps.tsv (C22 page): P:%s V:%s" % (m.group(1), m.group(2))
    with open(os.path.join(ref, "so-provides-3.22-x86_64-community-spot.tsv"), encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 5 and cols[4].startswith("p:") and cols[1] not in out:
                out[cols[1]] = "alpine/so-provides-3.22-x86_64-community-spot.tsv: %s %s provides %s" % (
                    cols[1], cols[3], cols[0])
    return out


# ---------------------------------------------------------------- checks
class Checker:
    def __init__(self, apt_dir, unverified):
        self.errors = []
        self.deb_table = {}
        self.deb_index = {}
        self.sources = []
        for rel in DEBIAN_RELEASES:
            db, path = load_debian_table(rel)
            self.deb_table[rel] = db
            self.sources.append("debian %s: %s" % (rel, os.path.relpath(path, k.REPO)))
            idx, used = load_debian_index(apt_dir, rel)
            self.deb_index[rel] = idx
            if idx:
                self.sources.append("debian %s: full main amd64 Packages index via apt (%s)" % (
                    rel, "; ".join("%s InRelease %s" % (s, d) for s, d in used)))
        self.alp_table, self.alp_raw, desc, path, idx_path = load_alpine()
        self.sources.append("alpine %s: %s" % (ALPINE_RELEASE, os.path.relpath(path, k.REPO)))
        self.sources.append("alpine %s: raw index %s (%s) for dependency paths" % (
            ALPINE_RELEASE, os.path.basename(idx_path), desc))
        self.alp_ref = load_alpine_reference()
        self.sources.append("alpine community: shared reference alpine/build-deps.tsv and "
                            "alpine/so-provides-3.22-x86_64-community-spot.tsv (quoted C22 index lines)")
        self.unverified = unverified
        self.used = {"debian": {}, "alpine": {}}  # name -> how verified
        self.missing_index = set()

    # -- name lookup
    def deb_db(self, rel):
        """Database for dependency walks: the full index if present, else the table."""
        return self.deb_index[rel] or self.deb_table[rel]

    def verify(self, distro, rel, name, where):
        if distro == "debian":
            if self.deb_table[rel].has(name):
                how = "table"
            elif self.deb_index[rel] is not None and self.deb_index[rel].has(name):
                how = "index"
            elif name in self.unverified["debian"]:
                how = "unverified"
            else:
                if self.deb_index[rel] is None:
                    self.missing_index.add(rel)
                self.errors.append("%s: debian %s package %r is in no table or index (mark it unverified "
                                   "with a reason if it must stay)" % (where, rel, name))
                return
            self.used["debian"].setdefault(name, set()).add("%s:%s" % (rel, how))
        else:
            if self.alp_table.has(name):
                how = "table"
            elif name in self.alp_ref:
                how = "reference"
            elif name in self.unverified["alpine"]:
                how = "unverified"
            else:
                self.errors.append("%s: alpine package %r is in neither the 3.22 main table nor the "
                                   "reference's community lines (mark it unverified with a reason)" % (where, name))
                return
            self.used["alpine"].setdefault(name, set()).add(how)

    def upstream(self, db_name, pkg):
        if db_name == "alpine":
            db = self.alp_table if self.alp_table.has(pkg) else None
        else:
            db = self.deb_table[db_name] if self.deb_table[db_name].has(pkg) else self.deb_index[db_name]
        if db is None or not db.has(pkg):
            self.errors.append("placeholder: no version of %s in %s" % (pkg, db_name))
            return "?"
        v = db.version(pkg)
        if ":" in v:
            v = v.split(":", 1)[1]
        if db_name == "alpine":
            return v.rsplit("-r", 1)[0]
        v = v.rsplit("-", 1)[0] if "-" in v else v
        v = re.sub(r"\+dfsg.*$|\+ds.*$|\+repack.*$|\+really.*$", "", v)
        return v

    def subst(self, text):
        return re.sub(r"\{upstream:([a-z0-9.]+):([^}]+)\}",
                      lambda m: self.upstream(m.group(1), m.group(2)), text)

    # -- dependency paths
    def path_to(self, db, starts, target):
        """Shortest Depends path from any start package to target, as [pkg, ...], or None."""
        prev = {}
        queue = collections.deque()
        for s in starts:
            if db.has(s) and s not in prev:
                prev[s] = None
                queue.append(s)
        while queue:
            cur = queue.popleft()
            if cur == target:
                out = [cur]
                while prev[out[-1]] is not None:
                    out.append(prev[out[-1]])
                return list(reversed(out))
            for group in db.pkgs[cur]["deps"]:
                for alt in group:
                    cands = [alt] if db.has(alt) else sorted(db.providers.get(alt, ()))
                    for c in cands:
                        if c not in prev and db.has(c):
                            prev[c] = cur
                            queue.append(c)
        return None

    def dep_text(self, db, parent, child):
        """The Depends item of parent that led to child, verbatim-ish."""
        for group in db.pkgs[parent]["deps"]:
            for alt in group:
                if alt == child or child in db.providers.get(alt, ()):
                    return alt if alt == child else "%s (provided by %s)" % (alt, child)
        return child

    def explain(self, db, path):
        parts = ["%s %s" % (path[0], db.version(path[0]))]
        for a, b in zip(path, path[1:]):
            parts.append("%s %s" % (self.dep_text(db, a, b), db.version(b)))
        return " -> ".join(parts)


# ---------------------------------------------------------------- expansion
def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def expand(entry, toolchains, distro, rel):
    """(build, runtime) of one entry for distro/rel, after release overrides and `uses`."""
    build = list(entry.get(distro + "_build", []))
    runtime = list(entry.get(distro + "_runtime", []))
    if distro == "debian":
        ov = entry.get("release", {}).get(rel, {})
        if "debian_build" in ov:
            build = list(ov["debian_build"])
        if "debian_runtime" in ov:
            runtime = list(ov["debian_runtime"])
    tc = toolchains[distro]
    extra_b, extra_r = [], []
    for u in entry.get("uses", []):
        if u == "cxx":
            extra_b += tc.get("cxx", [])
            extra_r += tc.get("cxx_runtime", [])
        elif u == "fortran":
            extra_b += tc.get("fortran", [])
            extra_r += tc.get("fortran_runtime", [])
        elif u == "kernel_headers":
            extra_b += tc.get("kernel_headers", [])
        elif u == "pkg_config":
            extra_b += tc.get("pkg_config", [])
    # g++ is part of build-essential / build-base: do not list it twice.
    extra_b = [p for p in extra_b if p not in tc.get("cxx", [])] if "cxx" in entry.get("uses", []) else extra_b
    return dedup(build + extra_b), dedup(runtime + extra_r)


def dedup(xs):
    seen = set()
    out = []
    for x in xs:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


def check_entry(chk, kind, key, entry, toolchains, backends):
    """Verify names and runtime paths of one backend/package entry; return generated evidence."""
    where = "%s.%s" % (kind, key)
    evidence = []
    for u in entry.get("uses", []):
        if u not in USES:
            chk.errors.append("%s: unknown uses group %r" % (where, u))
    for b in entry.get("backends", []):
        if b not in backends:
            chk.errors.append("%s: unknown backend %r" % (where, b))
    unchecked = entry.get("runtime_unchecked", {})
    for distro in ("debian", "alpine"):
        rels = DEBIAN_RELEASES if distro == "debian" else [ALPINE_RELEASE]
        for rel in rels:
            build, runtime = expand(entry, toolchains, distro, rel)
            for b in entry.get("backends", []):
                if b in backends:
                    bb, br = expand(backends[b], toolchains, distro, rel)
                    build += bb
                    runtime += br
            for name in build + runtime:
                chk.verify(distro, rel, name, where)
            for side in ("build", "runtime"):
                for name in entry.get("optional", {}).get("%s_%s" % (distro, side), []):
                    chk.verify(distro, rel, name, where + ".optional")
            # runtime reachable from build (+ toolchain)
            db = chk.deb_db(rel) if distro == "debian" else chk.alp_raw
            starts = dedup(build + toolchains[distro]["build"])
            label = rel if distro == "debian" else "alpine " + rel
            pairs = [(runtime, starts)]
            opt = entry.get("optional", {})
            if opt.get(distro + "_runtime"):
                pairs.append((opt[distro + "_runtime"], dedup(opt.get(distro + "_build", []) + starts)))
            for rts, sts in pairs:
                for r in rts:
                    if r in unchecked:
                        continue
                    if r in toolchains[distro].get("cxx_runtime", []) + toolchains[distro].get("fortran_runtime", []):
                        # toolchain runtimes: checked once for the toolchain itself
                        continue
                    if not db.has(r):
                        if distro == "alpine" and r not in chk.alp_table.pkgs:
                            evidence.append("not checked: %s: %s (Alpine community package: no dependency "
                                            "data in the main index)" % (label, r))
                            continue
                        chk.errors.append("%s: %s runtime %s has no dependency data" % (where, label, r))
                        continue
                    path = chk.path_to(db, sts, r)
                    if path is None:
                        community = distro == "alpine" and any(not db.has(s) for s in sts)
                        if community:
                            evidence.append("not checked: %s: %s (the build packages are Alpine community "
                                            "packages, whose dependencies are not in the main index)" % (label, r))
                            continue
                        chk.errors.append("%s: %s runtime %s is not reachable from %s through Depends "
                                          "(give runtime_unchecked a reason if this is right)" % (
                                              where, label, r, ", ".join(sts)))
                        continue
                    evidence.append("checked: %s: %s" % (label, chk.explain(db, path)))
    for name, reason in unchecked.items():
        evidence.append("not checked: runtime %s: %s" % (name, reason))
    return evidence


def check_toolchains(chk, toolchains):
    evidence = {}
    for distro, tc in toolchains.items():
        ev = []
        rels = DEBIAN_RELEASES if distro == "debian" else [ALPINE_RELEASE]
        for rel in rels:
            names = []
            for key in ("build", "minimal", "cxx", "cxx_runtime", "kernel_headers", "pkg_config", "fortran",
                        "fortran_runtime"):
                names += tc.get(key, [])
            for n in dedup(names):
                chk.verify(distro, rel, n, "toolchain." + distro)
            db = chk.deb_db(rel) if distro == "debian" else chk.alp_raw
            label = rel if distro == "debian" else "alpine " + rel
            for rt, via in (("cxx_runtime", "cxx"), ("fortran_runtime", "fortran")):
                for r in tc.get(rt, []):
                    path = chk.path_to(db, tc.get(via, []), r)
                    if path is None:
                        chk.errors.append("toolchain.%s: %s %s not reachable from %s" % (distro, label, r, via))
                    else:
                        ev.append("checked: %s: %s" % (label, chk.explain(db, path)))
            # the metapackage's own dependencies, for the record
            for meta in tc.get("build", []):
                if db.has(meta):
                    ev.append("checked: %s: %s %s depends on %s" % (label, meta, db.version(meta), "; ".join(
                        " | ".join(g) for g in db.pkgs[meta]["deps"])))
        evidence[distro] = ev
    return evidence


# ---------------------------------------------------------------- image variants
def image_variant(fname):
    m = re.match(r"^python-(\d+\.\d+)-(.+)\.tsv$", fname)
    if not m:
        return None
    fam = m.group(2)
    if fam.startswith("alpine"):
        return m.group(1), "alpine", fam[len("alpine"):]
    if fam.startswith("slim-"):
        return m.group(1), "slim", fam[len("slim-"):]
    return m.group(1), "full", fam


def preinstalled(chk, mentioned, toolchains):
    """{"full-trixie": {"packages": [...], "images": [...], "partial": {...}}, ...}"""
    ref = os.path.join(k.REFERENCE, "images")
    groups = collections.defaultdict(list)
    for fname in sorted(os.listdir(ref)):
        v = image_variant(fname)
        if not v:
            continue
        hdr, rows = k.read_reference_image(os.path.join(ref, fname))
        groups[(v[1], v[2])].append((hdr.get("image_tag", fname), {r[0] for r in rows if r and r[0]}))
    out = {}
    for (variant, rel), images in sorted(groups.items()):
        distro = "alpine" if variant == "alpine" else "debian"
        common = set.intersection(*(s for _, s in images))
        union = set.union(*(s for _, s in images))

        def relevant(p):
            return p in mentioned[distro] or p.endswith("-dev") or p in TOOLCHAIN_NAMES

        present = {p for p in common if relevant(p)}
        # metapackages whose every dependency group is satisfied count as present
        db = chk.deb_db(rel) if distro == "debian" else chk.alp_raw
        satisfied = []
        for meta in toolchains[distro]["build"]:
            if meta in present or not db.has(meta):
                continue
            groups_ok = all(any(a in common or any(pp in common for pp in db.providers.get(a, ()))
                                for a in g) for g in db.pkgs[meta]["deps"])
            if groups_ok:
                present.add(meta)
                satisfied.append(meta)
        partial = sorted(p for p in union - common if relevant(p))
        out["%s-%s" % (variant, rel)] = {
            "packages": sorted(present),
            "images": sorted(t for t, _ in images),
            "satisfied_metapackages": satisfied,
            "not_in_every_image": partial,
        }
    return out


# ---------------------------------------------------------------- TOML output
def q(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def tk(key):
    """A TOML key: bare when it can be, quoted otherwise (alpine-3.24 has a dot)."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else q(key)


def arr(xs, indent=""):
    xs = list(xs)
    if not xs:
        return "[]"
    one = "[" + ", ".join(q(x) for x in xs) + "]"
    if len(one) <= 100:
        return one
    return "[\n" + "".join("%s  %s,\n" % (indent, q(x)) for x in xs) + indent + "]"


def emit_kv(lines, key, value):
    if isinstance(value, list):
        lines.append("%s = %s" % (key, arr(value)))
    else:
        lines.append("%s = %s" % (key, q(value)))


def render(chk, data, gen_ev, tc_ev, pre, date):
    lines = []
    lines.append("# data/build-needs.toml: what building a Python sdist from source needs, per distribution.")
    lines.append("# GENERATED by scripts/knowledge/build_build_needs.py from scripts/knowledge/build_needs_input.toml;")
    lines.append("# do not edit by hand (edit the input and re-run the script).")
    lines.append("# generated: %s" % date)
    for s in chk.sources:
        lines.append("# source: %s" % s)
    lines.append("# source: shared reference images/*.tsv (installed packages of the official images) for [preinstalled]")
    lines.append("# rule: every package name was found in a generated table ('table'), else in the full Debian")
    lines.append("#   Packages index ('index'), else (Alpine community) in the shared reference's quoted index lines")
    lines.append("#   ('reference'), else it is listed under [unverified.<distro>] with the reason; see [verification].")
    lines.append("# rule: every runtime package is reachable from the entry's build packages through Depends; the path")
    lines.append("#   is in the entry's evidence ('checked: ...'), exceptions say why.")
    lines.append("# rule: Debian lists apply to every release unless release.<name> overrides them; a release with no data")
    lines.append("#   uses the newest one (meta.debian_releases is oldest first). Alpine lists are checked against")
    lines.append("#   Alpine %s and used for the 3.23/3.24 images (package names are stable across releases)." % ALPINE_RELEASE)
    lines.append("# rule: backends, toolchain groups (uses) and optional lists are expanded by the reader: needs = toolchain")
    lines.append("#   build + matching backends + package entry (+ its backends), deduplicated.")
    lines.append("")
    lines.append("[meta]")
    emit_kv(lines, "generated", date)
    emit_kv(lines, "debian_releases", DEBIAN_RELEASES)
    emit_kv(lines, "alpine_data_release", ALPINE_RELEASE)
    emit_kv(lines, "uses_groups", list(USES))
    lines.append("")
    for distro in ("debian", "alpine"):
        tc = data["toolchain"][distro]
        lines.append("[toolchain.%s]" % distro)
        for key in ("build", "minimal", "cxx", "cxx_runtime", "kernel_headers", "pkg_config", "fortran",
                    "fortran_runtime"):
            emit_kv(lines, key, tc.get(key, []))
        emit_kv(lines, "notes", [chk.subst(n) for n in tc.get("notes", [])])
        emit_kv(lines, "evidence", tc.get("evidence", []) + tc_ev[distro])
        lines.append("")
    for kind in ("backend", "package"):
        for key in sorted(data.get(kind, {})):
            e = data[kind][key]
            lines.append("[%s.%s]" % (kind, tk(key)))
            if kind == "backend":
                emit_kv(lines, "requires", [norm(r) for r in e["requires"]])
            else:
                emit_kv(lines, "aliases", [norm(a) for a in e.get("aliases", [])])
                emit_kv(lines, "backends", e.get("backends", []))
            emit_kv(lines, "uses", e.get("uses", []))
            for field in ("debian_build", "debian_runtime", "alpine_build", "alpine_runtime"):
                distro, side = field.split("_")
                b, r = expand({kk: vv for kk, vv in e.items() if kk != "release"}, data["toolchain"], distro, "")
                emit_kv(lines, field, b if side == "build" else r)
            for field in ("notes", "debian_notes", "alpine_notes"):
                emit_kv(lines, field, [chk.subst(n) for n in e.get(field, [])])
            emit_kv(lines, "evidence", e.get("evidence", []) + gen_ev["%s.%s" % (kind, key)])
            if e.get("runtime_unchecked"):
                lines.append("[%s.%s.runtime_unchecked]" % (kind, tk(key)))
                for n, why in sorted(e["runtime_unchecked"].items()):
                    emit_kv(lines, q(n), why)
            if e.get("optional"):
                lines.append("[%s.%s.optional]" % (kind, tk(key)))
                for field in ("debian_build", "debian_runtime", "alpine_build", "alpine_runtime"):
                    emit_kv(lines, field, e["optional"].get(field, []))
            for rel in DEBIAN_RELEASES:
                ov = e.get("release", {}).get(rel)
                if not ov:
                    continue
                lines.append("[%s.%s.release.%s]" % (kind, tk(key), tk(rel)))
                full = dict(e)
                full["release"] = {rel: ov}
                if "debian_build" in ov or "debian_runtime" in ov:
                    b, r = expand(full, data["toolchain"], "debian", rel)
                    if "debian_build" in ov:
                        emit_kv(lines, "debian_build", b)
                    if "debian_runtime" in ov:
                        emit_kv(lines, "debian_runtime", r)
                if ov.get("notes"):
                    emit_kv(lines, "notes", [chk.subst(n) for n in ov["notes"]])
            lines.append("")
    lines.append("# What each image variant already has of the toolchain, the -dev packages and the packages named above,")
    lines.append("# from the reference lists: packages present in every listed image of that variant and release; a")
    lines.append("# metapackage counts as present when all of its dependencies are (satisfied_metapackages).")
    for key in sorted(pre):
        p = pre[key]
        lines.append("[preinstalled.%s]" % tk(key))
        emit_kv(lines, "images", p["images"])
        emit_kv(lines, "satisfied_metapackages", p["satisfied_metapackages"])
        emit_kv(lines, "not_in_every_image", p["not_in_every_image"])
        emit_kv(lines, "packages", p["packages"])
        lines.append("")
    for distro in ("debian", "alpine"):
        lines.append("[unverified.%s]" % distro)
        for n in sorted(data.get("unverified", {}).get(distro, {})):
            if n in chk.used[distro]:
                emit_kv(lines, q(n), data["unverified"][distro][n])
        lines.append("")
    lines.append("# How each package name used above was verified (table / index / reference / unverified).")
    for distro in ("debian", "alpine"):
        lines.append("[verification.%s]" % distro)
        for n in sorted(chk.used[distro]):
            emit_kv(lines, q(n), ", ".join(sorted(chk.used[distro][n])))
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--apt-dir", default=k.default_apt_dir())
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    with open(INPUT, "rb") as fh:
        data = tomllib.load(fh)
    unverified = {d: data.get("unverified", {}).get(d, {}) for d in ("debian", "alpine")}
    for d, m in unverified.items():
        for n, why in m.items():
            if not str(why).strip():
                fail(["unverified.%s.%s: a reason is required" % (d, n)])
    chk = Checker(args.apt_dir, unverified)
    toolchains = data["toolchain"]
    backends = data.get("backend", {})
    for key, e in backends.items():
        if not e.get("requires"):
            chk.errors.append("backend.%s: requires is empty" % key)
    names = {}
    for key, e in data.get("package", {}).items():
        if norm(key) != key:
            chk.errors.append("package.%s: key is not PEP 503 normalised (%s)" % (key, norm(key)))
        for a in [key] + [norm(x) for x in e.get("aliases", [])]:
            if a in names:
                chk.errors.append("package.%s: name %s also used by %s" % (key, a, names[a]))
            names[a] = key
    tc_ev = check_toolchains(chk, toolchains)
    gen_ev = {}
    for kind, table in (("backend", backends), ("package", data.get("package", {}))):
        for key, e in table.items():
            gen_ev["%s.%s" % (kind, key)] = check_entry(chk, kind, key, e, toolchains, backends)
    for d in ("debian", "alpine"):
        for n in unverified[d]:
            if n not in chk.used[d]:
                chk.errors.append("unverified.%s.%s is not used by any entry" % (d, n))
            elif any(h != "unverified" and not h.endswith(":unverified") for h in chk.used[d][n]):
                chk.errors.append("unverified.%s.%s is found in a table or index: remove it from [unverified]" % (d, n))
    mentioned = {d: set(chk.used[d]) for d in ("debian", "alpine")}
    pre = preinstalled(chk, mentioned, toolchains)
    date = k.today()
    text = render(chk, data, gen_ev, tc_ev, pre, date)  # placeholders may add errors
    if chk.missing_index:
        chk.errors.append("no full Debian index for %s in %s: run scripts/knowledge/fetch_debian_indexes.py "
                          "(names outside the generated tables are checked there)" % (
                              ", ".join(sorted(chk.missing_index)), args.apt_dir))
    if chk.errors:
        fail(chk.errors)
    counts = {d: collections.Counter() for d in ("debian", "alpine")}
    for d in counts:
        for n, hows in chk.used[d].items():
            for h in hows:
                counts[d][h.split(":")[-1]] += 1
    summary = "; ".join("%s %s" % (d, dict(sorted(c.items()))) for d, c in counts.items())
    if args.check:
        try:
            with open(OUTPUT, encoding="utf-8") as fh:
                old = fh.read()
        except FileNotFoundError:
            print("check: %s does not exist" % OUTPUT)
            return 1
        strip = lambda t: re.sub(r"(?m)^(# generated: |generated = ).*$", "", t)
        same = strip(old) == strip(text)
        print("check: %s (%s)" % ("up to date" if same else "DIFFERS from a fresh build", summary))
        return 0 if same else 1
    tmp = OUTPUT + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    os.replace(tmp, OUTPUT)
    print("wrote %s: %d backends, %d packages, %d image variants; names checked: %s" % (
        os.path.relpath(OUTPUT, k.REPO), len(backends), len(data.get("package", {})), len(pre), summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
