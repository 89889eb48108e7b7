#!/usr/bin/env python3
"""Check the sparse ELF read against the whole read, on real wheels.

Runs wheelcheck twice on FILE, each time with an empty cache of its own: once as it runs by
default (large members read sparsely: the start inflated, or the tail decoded from a deflate
block found mid-stream) and once with WHEELCHECK_WHOLE_MEMBERS=1 (every ELF member inflated
whole). Compares, per target and package, the JSON `elf` report (needed libraries, sonames,
rpaths, symbol versions, where each library comes from), and prints the bytes, time and peak
memory of both runs. Exits 1 if any report differs.

Usage: scripts/compare_sparse_whole.py FILE [--python 3.12] [--image slim] [--arch amd64]
       [--wheelcheck target/release/wheelcheck]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time


def run(wheelcheck, args, whole):
    env = dict(os.environ)
    env.pop("WHEELCHECK_WHOLE_MEMBERS", None)
    if whole:
        env["WHEELCHECK_WHOLE_MEMBERS"] = "1"
    with tempfile.TemporaryDirectory() as cache:
        env["WHEELCHECK_CACHE_DIR"] = cache
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.monotonic()
        done = subprocess.run(
            [wheelcheck, *args, "--format", "json", "-v"],
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.monotonic() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode not in (0, 1):
        sys.exit(f"wheelcheck exited {done.returncode}:\n{done.stderr}")
    network = next((l for l in done.stderr.splitlines() if l.startswith("network:")), "")
    # ru_maxrss of children is the largest so far: only a new maximum is this run's.
    return json.loads(done.stdout), seconds, peak if peak > before else None, network


def elf_reports(report):
    return {
        (t["image"], t["arch"], p["name"]): p.get("elf")
        for t in report["targets"]
        for p in t["packages"]
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--python", default="3.12")
    parser.add_argument("--image", action="append", default=None)
    parser.add_argument("--arch", action="append", default=None)
    parser.add_argument("--wheelcheck", default="target/release/wheelcheck")
    options = parser.parse_args()
    args = [options.file, "--python", options.python]
    for image in options.image or ["slim"]:
        args += ["--image", image]
    for arch in options.arch or ["amd64"]:
        args += ["--arch", arch]

    results = {}
    for name, whole in (("sparse", False), ("whole", True)):
        report, seconds, peak, network = run(options.wheelcheck, args, whole)
        fetched = sum(t["bytes"]["elf_fetched"] for t in report["targets"])
        total = sum(t["bytes"]["wheels_total"] for t in report["targets"])
        results[name] = elf_reports(report)
        peak_text = f"{peak / 1024:.0f} MB peak RSS" if peak else "peak RSS not above the first run's"
        print(
            f"{name:6}: ELF bytes {fetched / 1e6:.1f} MB of {total / 1e6:.1f} MB of wheels "
            f"({100 * fetched / max(total, 1):.1f}%), {seconds:.1f} s, {peak_text}; {network}"
        )

    sparse, whole = results["sparse"], results["whole"]
    differing = [key for key in sorted(sparse.keys() | whole.keys()) if sparse.get(key) != whole.get(key)]
    with_elf = sum(1 for value in sparse.values() if value and value.get("files"))
    print(f"packages: {len(sparse)}, with ELF files: {with_elf}, reports differing: {len(differing)}")
    for image, arch, name in differing:
        print(f"  differs: {name} on {image} {arch}")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
