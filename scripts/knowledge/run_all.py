#!/usr/bin/env python3
"""Regenerate everything in data/knowledge/ in order.

Usage:
    python3 scripts/knowledge/run_all.py [--apt-dir DIR] [--skip-fetch]

Runs fetch_debian_indexes.py (network: Debian archive through apt; skip with
--skip-fetch to reuse the indexes already in DIR), build_debian.py,
build_alpine.py, build_images.py and check.py.  Python 3 stdlib only; needs
apt-get, apt-helper and dpkg-deb (a Debian machine, run as root), and
openssl for the optional Alpine signature check.
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(script, *extra):
    cmd = [sys.executable, os.path.join(HERE, script)] + list(extra)
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--apt-dir")
    ap.add_argument("--skip-fetch", action="store_true")
    args = ap.parse_args()
    extra = ["--apt-dir", args.apt_dir] if args.apt_dir else []
    if not args.skip_fetch:
        run("fetch_debian_indexes.py", *extra)
    run("build_debian.py", *extra)
    run("build_alpine.py")
    run("build_images.py", *extra)
    run("check.py")


if __name__ == "__main__":
    main()
