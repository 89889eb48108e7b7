#!/usr/bin/env python3
"""Fetch Debian `Packages` and `Contents-*` indexes for bookworm and trixie
(amd64 + arm64, component main) with apt, into a private apt tree.

Usage:
    python3 scripts/knowledge/fetch_debian_indexes.py [--apt-dir DIR]

What it does:
  * Creates a self-contained apt configuration under DIR (default
    /work/scratch/apt, or $WHEELCHECK_APT_DIR): its own sources, state, cache
    and config parts.  The system's apt state, dpkg architectures and
    installed packages are NOT touched (arm64 is enabled only for this private
    tree via APT::Architectures, nothing is installed).
  * The archive URIs are NOT hard-coded: they are read from the machine's own
    apt sources (/etc/apt/sources.list and /etc/apt/sources.list.d/*), taking
    the URI of the entry that serves suite `<codename>` (the main archive) and
    the one that serves `<codename>-security`.  Override with --mirror and
    --security-mirror.
  * Suites: bookworm, bookworm-updates, bookworm-security, trixie,
    trixie-updates, trixie-security; component main; archs amd64, arm64.
  * `apt-get update` against that tree fetches the Packages indexes (kept as
    .gz) and verifies them and the InRelease files with
    /usr/share/keyrings/debian-archive-keyring.gpg.
  * `main/Contents-{amd64,arm64,all}.gz` of every suite are then fetched with
    apt's own downloader (/usr/lib/apt/apt-helper download-file) into
    DIR/contents/, checked against the SHA256 listed in the verified InRelease
    (by-hash path first, then the plain path).  If the archive serves a
    Contents file that does not match the InRelease (seen when the mirror is
    mid-sync), the file is still used but recorded as `"verified": false`
    in DIR/fetched.json, and the build scripts copy that into the headers.
  * Writes DIR/fetched.json: UTC date, index files, Contents verification.

Scripts that read the indexes: build_debian.py, build_images.py (see
data/knowledge/README.md).  Python 3 standard library only.
"""
import argparse
import datetime
import glob
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kcommon  # noqa: E402

RELEASES = ["bookworm", "trixie"]
ARCHS = ["amd64", "arm64"]
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


def system_sources():
    """Yield (uris, suites) from the machine's apt sources (deb822 and one-line)."""
    files = sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        for stanza in re.split(r"\n\s*\n", text):
            fields = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line or line[:1].isspace():
                    continue
                k, v = line.split(":", 1)
                fields[k.strip().lower()] = v.strip()
            if "deb" not in fields.get("types", "").split():
                continue
            if fields.get("enabled", "yes").lower() == "no":
                continue
            yield fields.get("uris", "").split(), fields.get("suites", "").split()
    one_line = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
    for f in one_line:
        if not os.path.exists(f):
            continue
        with open(f, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                line = re.sub(r"\[[^\]]*\]", "", line.split("#", 1)[0]).split()
                if len(line) >= 3 and line[0] == "deb":
                    yield [line[1]], [line[2]]


def find_uri(pattern):
    for uris, suites in system_sources():
        if any(re.fullmatch(pattern, s) for s in suites) and uris:
            return uris[0]
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--apt-dir", default=kcommon.default_apt_dir())
    ap.add_argument("--mirror", help="URI of the Debian archive (default: from system sources)")
    ap.add_argument("--security-mirror", help="URI of the Debian security archive (default: from system sources)")
    args = ap.parse_args()

    mirror = args.mirror or find_uri(r"(bookworm|trixie|stable|oldstable|sid|unstable|testing)")
    security = args.security_mirror or find_uri(r"[a-z]+-security")
    if not mirror or not security:
        sys.exit("could not find the archive / security URIs in the system apt sources; pass --mirror/--security-mirror")

    d = os.path.abspath(args.apt_dir)
    for sub in ["etc/apt.conf.d", "etc/sources.list.d", "etc/preferences.d", "state/lists/partial",
                "cache/archives/partial", "log"]:
        os.makedirs(os.path.join(d, sub), exist_ok=True)

    sources = []
    for rel in RELEASES:
        sources.append(
            "Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nArchitectures: %s\nSigned-By: %s\n"
            % (mirror, rel, rel, " ".join(ARCHS), KEYRING))
        sources.append(
            "Types: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nArchitectures: %s\nSigned-By: %s\n"
            % (security, rel, " ".join(ARCHS), KEYRING))
    with open(os.path.join(d, "etc/sources.list.d/debian.sources"), "w") as fh:
        fh.write("\n".join(sources))
    with open(os.path.join(d, "etc/sources.list"), "w") as fh:
        fh.write("")

    # Packages indexes: apt-get update verifies them against the signed InRelease.
    with open(os.path.join(d, "etc/apt.conf.d/10keep-gz"), "w") as fh:
        fh.write('Acquire::IndexTargets::deb::Packages::KeepCompressedAs "gz";\n')

    conf = kcommon.apt_config_text(d, ARCHS)
    with open(os.path.join(d, "apt.conf"), "w") as fh:
        fh.write(conf)

    env = dict(os.environ, APT_CONFIG=os.path.join(d, "apt.conf"))
    print("running apt-get update in private tree", d, file=sys.stderr)
    r = subprocess.run(["apt-get", "update", "-o", "Acquire::Languages=none",
                        "-o", "Acquire::GzipIndexes=true", "-o", "Acquire::PDiffs=false"], env=env)
    if r.returncode != 0:
        sys.exit("apt-get update failed (%d)" % r.returncode)

    # Contents indexes: downloaded with apt's own downloader (apt-helper), checked
    # against the SHA256 in the (already verified) InRelease.  The archive's
    # by-hash copy is tried first, then the plain path.  If the archive serves a
    # Contents file that does not match its InRelease (mirror out of sync), the
    # file is kept but recorded as unverified in fetched.json.
    cdir = os.path.join(d, "contents")
    os.makedirs(cdir, exist_ok=True)
    os.chmod(cdir, 0o777)  # apt-helper drops privileges to _apt
    contents_status = {}
    for rel in RELEASES:
        for suite, base in ((rel, mirror), (rel + "-updates", mirror), (rel + "-security", security)):
            inrel = kcommon.inrelease_hashes(d, suite)
            for arch in ARCHS + ["all"]:
                key = "main/Contents-%s.gz" % arch
                if key not in inrel:
                    continue
                sha, size = inrel[key]
                dest = os.path.join(cdir, "%s_main_Contents-%s.gz" % (suite, arch))
                if os.path.exists(dest) and kcommon.sha256_file(dest) == sha:
                    contents_status[os.path.basename(dest)] = {"verified": True, "sha256": sha}
                    continue
                status = None
                urls = ["%s/dists/%s/main/by-hash/SHA256/%s" % (base.rstrip("/"), suite, sha),
                        "%s/dists/%s/%s" % (base.rstrip("/"), suite, key)]
                for url in urls:
                    if os.path.exists(dest):
                        os.unlink(dest)
                    rr = subprocess.run(["/usr/lib/apt/apt-helper", "download-file", url, dest, "SHA256:" + sha],
                                        env=env, capture_output=True, text=True)
                    if rr.returncode == 0 and os.path.exists(dest):
                        status = {"verified": True, "sha256": sha}
                        break
                if status is None:
                    if os.path.exists(dest):
                        os.unlink(dest)
                    rr = subprocess.run(["/usr/lib/apt/apt-helper", "download-file", urls[1], dest],
                                        env=env, capture_output=True, text=True)
                    if rr.returncode != 0 or not os.path.exists(dest):
                        sys.exit("could not download %s %s: %s" % (suite, key, rr.stdout + rr.stderr))
                    got = kcommon.sha256_file(dest)
                    status = {"verified": got == sha, "sha256": got, "inrelease_sha256": sha,
                              "inrelease_size": size, "size": os.path.getsize(dest)}
                    if not status["verified"]:
                        print("WARNING: %s %s does not match InRelease (mirror out of sync?); kept, marked unverified"
                              % (suite, key), file=sys.stderr)
                contents_status[os.path.basename(dest)] = status
                if os.path.exists(dest + ".FAILED"):
                    os.unlink(dest + ".FAILED")

    lists = sorted(os.listdir(os.path.join(d, "state/lists")))
    lists = [x for x in lists if x not in ("partial", "lock", "auxfiles")]
    stamp = {
        "contents": contents_status,
        "fetched_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "releases": RELEASES,
        "archs": ARCHS,
        "files": lists,
    }
    with open(os.path.join(d, "fetched.json"), "w") as fh:
        json.dump(stamp, fh, indent=1)
    print("ok: %d index files; stamp in %s" % (len(lists), os.path.join(d, "fetched.json")), file=sys.stderr)


if __name__ == "__main__":
    main()
