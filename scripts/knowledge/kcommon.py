"""Shared helpers for the scripts in scripts/knowledge/ (Python 3 stdlib only).

Not a script: imported by fetch_debian_indexes.py, build_debian.py,
build_images.py and build_alpine.py.
"""
import datetime
import gzip
import json
import lzma
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT_DIR = os.path.join(REPO, "data", "knowledge")
REFERENCE = os.environ.get("WHEELCHECK_REFERENCE", "/work/shared/reference")

TRIPLET = {"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}


def default_apt_dir():
    return os.environ.get("WHEELCHECK_APT_DIR", "/work/scratch/apt")


def apt_config_text(d, archs):
    """apt.conf for a private apt tree rooted at d (used via APT_CONFIG)."""
    status = os.path.join(d, "state", "status")
    if not os.path.exists(status):
        os.makedirs(os.path.dirname(status), exist_ok=True)
        open(status, "w").close()
    return """// private apt tree for wheelcheck knowledge scripts; generated, do not edit
Dir::Etc "%(d)s/etc/";
Dir::Etc::main "/dev/null";
Dir::Etc::parts "%(d)s/etc/apt.conf.d/";
Dir::Etc::sourcelist "%(d)s/etc/sources.list";
Dir::Etc::sourceparts "%(d)s/etc/sources.list.d/";
Dir::Etc::preferencesparts "%(d)s/etc/preferences.d/";
Dir::Etc::trustedparts "%(d)s/etc/trusted.gpg.d/";
Dir::State "%(d)s/state/";
Dir::State::lists "%(d)s/state/lists/";
Dir::State::status "%(d)s/state/status";
Dir::Cache "%(d)s/cache/";
Dir::Cache::archives "%(d)s/cache/archives/";
Dir::Log "%(d)s/log/";
APT::Architecture "amd64";
APT::Architectures { %(archs)s };
""" % {"d": d, "archs": " ".join('"%s";' % a for a in archs)}


def open_index(path):
    """Open a (possibly compressed) apt list file as text."""
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    if path.endswith(".xz"):
        return lzma.open(path, "rt", encoding="utf-8", errors="replace")
    if path.endswith(".lz4") or path.endswith(".zst"):
        raise RuntimeError("unsupported compression for %s (set Acquire::GzipIndexes)" % path)
    return open(path, "r", encoding="utf-8", errors="replace")


def lists_dir(apt_dir):
    return os.path.join(apt_dir, "state", "lists")


def fetched_stamp(apt_dir):
    with open(os.path.join(apt_dir, "fetched.json")) as fh:
        return json.load(fh)


def find_lists(apt_dir, suite, kind):
    """Index files in the private tree for one suite.

    kind: e.g. 'main_binary-amd64_Packages', 'main_Contents-amd64', 'main_Contents-all'.
    Returns list of paths (any compression)."""
    out = []
    ld = lists_dir(apt_dir)
    for name in sorted(os.listdir(ld)):
        m = re.match(r"^.*_dists_([^_]+)_(.*?)(\.gz|\.xz|\.lz4|\.zst)?$", name)
        if not m:
            continue
        if m.group(1) == suite and m.group(2) == kind:
            out.append(os.path.join(ld, name))
    return out


def release_date(apt_dir, suite):
    """'Date:' field of the suite's InRelease file, or None."""
    ld = lists_dir(apt_dir)
    for name in os.listdir(ld):
        if re.match(r"^.*_dists_%s_InRelease$" % re.escape(suite), name):
            with open(os.path.join(ld, name), encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    if line.startswith("Date:"):
                        return line.split(":", 1)[1].strip()
    return None


def parse_deb822(fh):
    """Yield dicts from a Packages file (continuation lines joined with '\n')."""
    rec = {}
    key = None
    for line in fh:
        line = line.rstrip("\n")
        if not line:
            if rec:
                yield rec
            rec = {}
            key = None
            continue
        if line[0] in " \t":
            if key:
                rec[key] += "\n" + line
            continue
        k, _, v = line.partition(":")
        key = k
        rec[k] = v.strip()
    if rec:
        yield rec


# ---------------------------------------------------------------- versions
def _order(c):
    if c.isdigit():
        return 0
    if c.isalpha():
        return ord(c)
    if c == "~":
        return -1
    if c:
        return ord(c) + 256
    return 0


def _verrevcmp(a, b):
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) else 0
            bc = _order(b[j]) if j < len(b) else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def _split(v):
    epoch = 0
    if ":" in v:
        e, v = v.split(":", 1)
        epoch = int(e) if e.isdigit() else 0
    if "-" in v:
        up, rev = v.rsplit("-", 1)
    else:
        up, rev = v, ""
    return epoch, up, rev


def vercmp(a, b):
    """dpkg version comparison: <0, 0, >0."""
    ea, ua, ra = _split(a)
    eb, ub, rb = _split(b)
    if ea != eb:
        return ea - eb
    c = _verrevcmp(ua, ub)
    if c:
        return c
    return _verrevcmp(ra, rb)


# ---------------------------------------------------------------- output
def today():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


def write_tsv(path, header_lines, columns, rows):
    """Write '# ' header lines, a '# columns:' line, then tab-separated rows."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        for h in header_lines:
            for part in h.split("\n"):
                fh.write("# " + part + "\n")
        fh.write("# columns: " + "\t".join(columns) + "\n")
        for r in rows:
            fh.write("\t".join(str(x) for x in r) + "\n")
    os.replace(tmp, path)


def sha256_file(path):
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def inrelease_path(apt_dir, suite):
    ld = lists_dir(apt_dir)
    for name in sorted(os.listdir(ld)):
        if re.match(r"^.*_dists_%s_InRelease$" % re.escape(suite), name):
            return os.path.join(ld, name)
    return None


def inrelease_hashes(apt_dir, suite):
    """{'main/Contents-amd64.gz': (sha256, size), ...} from the suite's InRelease."""
    p = inrelease_path(apt_dir, suite)
    out = {}
    if not p:
        return out
    in_sha = False
    with open(p, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.startswith(" "):
                in_sha = line.startswith("SHA256:")
                continue
            if in_sha:
                parts = line.split()
                if len(parts) == 3:
                    out[parts[2]] = (parts[0], int(parts[1]))
    return out


# ---------------------------------------------------------------- .deb inspection
def deb_info(apt_dir, pkg, version, arch, log=None):
    """Facts read from one binary package's .deb (cached as JSON under
    <apt_dir>/debinfo/).  The .deb is fetched with `apt-get download` through
    the private apt tree into <apt_dir>/debs/ and deleted after reading.

    Returns {"shlibs": [...lines], "symbols_headers": [...], "alternatives":
    [[link, name, path], ...], "ld_so_conf": {path: [dirs]}}."""
    import subprocess
    import tarfile
    import tempfile
    safe = re.sub(r"[^A-Za-z0-9.+~-]", "_", "%s_%s_%s" % (pkg, version, arch))
    cache_dir = os.path.join(apt_dir, "debinfo")
    os.makedirs(cache_dir, exist_ok=True)
    cache = os.path.join(cache_dir, safe + ".json")
    if os.path.exists(cache):
        with open(cache) as fh:
            return json.load(fh)
    debs = os.path.join(apt_dir, "debs")
    os.makedirs(debs, exist_ok=True)
    os.chmod(debs, 0o777)
    env = dict(os.environ, APT_CONFIG=os.path.join(apt_dir, "apt.conf"))
    before = set(os.listdir(debs))
    r = subprocess.run(["apt-get", "download", "-q", "%s:%s=%s" % (pkg, arch, version)],
                       cwd=debs, env=env, capture_output=True, text=True)
    new = [f for f in set(os.listdir(debs)) - before if f.endswith(".deb")]
    if r.returncode != 0 or len(new) != 1:
        raise RuntimeError("apt-get download %s:%s=%s failed: %s" % (pkg, arch, version, r.stderr.strip()))
    deb = os.path.join(debs, new[0])
    if log:
        log("downloaded %s (%d bytes) to read its control data" % (new[0], os.path.getsize(deb)))
    info = {"package": pkg, "version": version, "arch": arch, "shlibs": [], "symbols_headers": [],
            "alternatives": [], "ld_so_conf": {}}
    with tempfile.TemporaryDirectory() as td:
        subprocess.run(["dpkg-deb", "-e", deb, td], check=True)
        p = os.path.join(td, "shlibs")
        if os.path.exists(p):
            with open(p, errors="replace") as fh:
                info["shlibs"] = [l.rstrip("\n") for l in fh if l.strip() and not l.startswith("#")]
        p = os.path.join(td, "symbols")
        if os.path.exists(p):
            with open(p, errors="replace") as fh:
                info["symbols_headers"] = [l.rstrip("\n") for l in fh
                                           if l.strip() and l[0] not in " \t|*#"]
        p = os.path.join(td, "postinst")
        if os.path.exists(p):
            with open(p, errors="replace") as fh:
                text = fh.read().replace("\\\n", " ")
            for line in text.splitlines():
                if "update-alternatives" not in line:
                    continue
                for m in re.finditer(r"--(?:install|slave)\s+(\S+)\s+(\S+)\s+(\S+)", line):
                    info["alternatives"].append([m.group(1), m.group(2), m.group(3)])
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
    with tarfile.open(fileobj=proc.stdout, mode="r|") as tf:
        for m in tf:
            name = m.name.lstrip("./")
            if name.startswith("etc/ld.so.conf.d/") and m.isfile():
                data = tf.extractfile(m).read().decode("utf-8", "replace")
                info["ld_so_conf"][name] = [l.strip() for l in data.splitlines()
                                            if l.strip() and not l.strip().startswith("#")]
    proc.wait()
    os.unlink(deb)
    with open(cache, "w") as fh:
        json.dump(info, fh, indent=1)
    return info


# ---------------------------------------------------------------- Alpine
def alpine_index_path(release, arch="x86_64", repo="main"):
    return os.path.join(REFERENCE, "alpine", "apkindex", "v%s-%s-%s.APKINDEX.tar.gz" % (release, repo, arch))


def read_apkindex(path):
    """Parse an APKINDEX.tar.gz: returns (description, [records]) where a record
    is {letter: value} for the P/V/A/o/I/S/D/p fields."""
    import tarfile
    desc = ""
    recs = []
    with tarfile.open(path, "r:gz") as tf:
        for m in tf:
            if m.name == "DESCRIPTION":
                desc = tf.extractfile(m).read().decode().strip()
            elif m.name == "APKINDEX":
                text = tf.extractfile(m).read().decode("utf-8", "replace")
                for block in text.split("\n\n"):
                    rec = {}
                    for line in block.splitlines():
                        if len(line) > 2 and line[1] == ":":
                            rec[line[0]] = line[2:]
                    if rec.get("P"):
                        recs.append(rec)
    return desc, recs


def verify_apkindex(path):
    """Check the index signature with openssl (if present). Returns a short text."""
    import shutil
    import subprocess
    import tarfile
    import tempfile
    import zlib
    key = os.path.join(os.path.dirname(path), "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub")
    if not shutil.which("openssl") or not os.path.exists(key):
        return "signature not checked (no openssl or key)"
    raw = open(path, "rb").read()
    d = zlib.decompressobj(31)
    d.decompress(raw)
    second = d.unused_data
    sig = None
    with tarfile.open(path, "r:gz") as tf:
        for m in tf:
            if m.name.startswith(".SIGN.RSA."):
                sig = tf.extractfile(m).read()
                break
    if sig is None:
        return "no signature member"
    with tempfile.TemporaryDirectory() as td:
        sp = os.path.join(td, "sig")
        dp = os.path.join(td, "data")
        open(sp, "wb").write(sig)
        open(dp, "wb").write(second)
        r = subprocess.run(["openssl", "dgst", "-sha1", "-verify", key, "-signature", sp, dp],
                           capture_output=True, text=True)
    return "openssl: " + (r.stdout.strip() or r.stderr.strip())


def apk_tokens(field):
    return [t for t in (field or "").split() if t]


def apk_so_provides(rec):
    """[(soname, token)] for every so: provide ('so:libfoo.so.1' or 'so:ns:libfoo.so.1')."""
    out = []
    for t in apk_tokens(rec.get("p")):
        if not t.startswith("so:"):
            continue
        tok = t.split("=", 1)[0]
        name = tok[3:]
        soname = name.split(":", 1)[1] if ":" in name else name
        out.append((soname, tok))
    return out


def read_reference_image(path):
    """(header dict, [row lists]) of a /work/shared/reference/images/*.tsv file."""
    hdr = {}
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line.startswith("#"):
                k, _, v = line[1:].strip().partition(":")
                hdr.setdefault(k.strip(), v.strip())
            elif line.strip():
                rows.append(line.split("\t"))
    return hdr, rows
