#!/usr/bin/env python3
"""Compare wheelcheck's ELF analysis of the chosen wheels with auditwheel's.

For each target in wheelcheck's JSON report, every chosen wheel with ELF files is downloaded
(once, into a temporary directory) and analysed by auditwheel (from a throwaway virtual
environment at $AUDITWHEEL_VENV, default /tmp/wheelcheck-aw-venv), through the same function
`auditwheel show` uses (`get_wheel_elfdata`: lddtree over every ELF file of the wheel, and
pyelftools for the versioned symbols). Compared per wheel:
  - the libraries that ELF files of the wheel need directly and that lddtree does not find
    inside the wheel, against wheelcheck's needed_from_system + provided_by_libc
    (`auditwheel show` prints only those outside the manylinux whitelist; this compares all);
  - the highest GLIBC symbol version, against wheelcheck's symbol_versions.GLIBC.
auditwheel resolves libraries on the machine it runs on, so compare x86_64 glibc targets.

Usage: scripts/compare_with_auditwheel.py FILE [--python 3.12] [--image slim]
       [--wheelcheck target/release/wheelcheck]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request


def auditwheel():
    venv = os.environ.get("AUDITWHEEL_VENV", "/tmp/wheelcheck-aw-venv")
    exe = os.path.join(venv, "bin", "auditwheel")
    if not os.path.exists(exe):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", "auditwheel"], check=True)
    return exe


PROBE = r"""
import json, sys
from pathlib import Path
from auditwheel.wheel_abi import get_wheel_elfdata
from auditwheel.libc import Libc
from auditwheel.architecture import Architecture
data = get_wheel_elfdata(Libc.GLIBC, Architecture.x86_64, Path(sys.argv[1]), frozenset(), None)
external = set()
for tree in data.full_elftree.values():
    def is_inside(name):
        # lddtree found it, and not in the system's library directories: inside the wheel.
        lib = tree.libraries.get(name)
        return lib is not None and lib.realpath is not None and not str(lib.realpath).startswith(("/lib", "/usr"))
    external |= {n for n in tree.needed if not is_inside(n)}
    for name, lib in tree.libraries.items():
        if is_inside(name):
            external |= {n for n in lib.needed if not is_inside(n)}
glibc = [v for versions in data.versioned_symbols.values() for v in versions if v.startswith("GLIBC_")]
key = lambda v: tuple(int(x) for x in v.split("_", 1)[1].split("."))
print(json.dumps({"external": sorted(external), "glibc": max(glibc, key=key).split("_", 1)[1] if glibc else None}))
"""


def show(exe, path):
    python = os.path.join(os.path.dirname(exe), "python")
    out = subprocess.run([python, "-c", PROBE, path], capture_output=True, text=True)
    if out.returncode != 0:
        return None, None, out.stderr
    result = json.loads(out.stdout)
    return set(result["external"]), result["glibc"], out.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--python", default="3.12")
    parser.add_argument("--image", default="slim")
    parser.add_argument("--wheelcheck", default="target/release/wheelcheck")
    args = parser.parse_args()
    report = json.loads(subprocess.run(
        [args.wheelcheck, args.file, "--format", "json", "--python", args.python, "--image", args.image,
         "--arch", "amd64"], capture_output=True, text=True).stdout)
    exe = auditwheel()
    differences = compared = 0
    with tempfile.TemporaryDirectory() as tmp:
        for target in report["targets"]:
            print(f"{target['image']} ({target['arch']}), auditwheel {subprocess.run([exe, '--version'], capture_output=True, text=True).stdout.split()[1]}")
            for package in target["packages"]:
                elf = package.get("elf")
                if package["kind"] != "wheel" or not elf or elf["files"] == 0:
                    continue
                path = os.path.join(tmp, package["file"])
                if not os.path.exists(path):
                    urllib.request.urlretrieve(package["url"], path)
                external, highest, text = show(exe, path)
                if external is None:
                    differences += 1
                    print(f"  ERROR {package['name']}: {text.strip().splitlines()[-1]}")
                    continue
                ours = set(elf["needed_from_system"]) | set(elf["provided_by_libc"])
                our_glibc = elf["symbol_versions"].get("GLIBC")
                compared += 1
                same = ours == external and our_glibc == highest
                differences += not same
                print(f"  {'MATCH' if same else 'DIFF '} {package['name']:<24} libs={sorted(ours)} glibc={our_glibc}")
                if not same:
                    print(f"        auditwheel: libs={sorted(external)} glibc={highest}")
    print(f"\n{compared} wheels compared, {differences} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
