#!/usr/bin/env python3
"""Compare wheelcheck's file choices with pip's, target by target.

For every target wheelcheck checks, this runs

    pip install --dry-run --ignore-installed --report out.json --only-binary=:all: \
        --python-version X.Y --implementation cp --abi cpXY --platform <tag> ... -r FILE

with the target's whole platform-tag list (taken from wheelcheck's JSON report, so both tools
see the same list), and compares the file pip would download for each package with the file
wheelcheck chose. pip runs from a throwaway virtual environment (created on first use at
$PIP_VENV, default /tmp/wheelcheck-pip-venv) and is never a dependency of wheelcheck.

pip evaluates environment markers on the machine it runs on (only the Python version and tags
are overridden), so a dependency guarded by a marker such as platform_machine can differ on a
foreign architecture; such differences are printed as "marker" rather than counted as errors.

Usage: scripts/compare_with_pip.py FILE [--python 3.12] [--image alpine --image slim ...]
       [--arch amd64 --arch arm64] [--wheelcheck target/release/wheelcheck]
Exit status: 0 when every package matches, 1 otherwise.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import PurePosixPath
from urllib.parse import urlparse, unquote


def venv_pip():
    venv = os.environ.get("PIP_VENV", "/tmp/wheelcheck-pip-venv")
    pip = os.path.join(venv, "bin", "pip")
    if not os.path.exists(pip):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([pip, "install", "-q", "--upgrade", "pip"], check=True)
    return pip


def wheelcheck_report(args):
    cmd = [args.wheelcheck, args.file, "--format", "json", "--python", args.python]
    for image in args.image:
        cmd += ["--image", image]
    for arch in args.arch:
        cmd += ["--arch", arch]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(f"wheelcheck failed ({out.returncode}):\n{out.stderr}")
    return json.loads(out.stdout)


def pip_choices(pip, file, python, tags):
    nodot = python.replace(".", "")
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        cmd = [pip, "install", "--dry-run", "--ignore-installed", "--quiet", "--report", report,
               "--only-binary=:all:", "--python-version", python, "--implementation", "cp",
               "--abi", f"cp{nodot}", "-r", file]
        for tag in tags:
            cmd += ["--platform", tag]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            return None, out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "pip failed"
        with open(report) as f:
            data = json.load(f)
    choices = {}
    for item in data["install"]:
        name = item["metadata"]["name"].lower().replace("_", "-").replace(".", "-")
        url = item["download_info"]["url"]
        choices[name] = unquote(PurePosixPath(urlparse(url).path).name)
    return choices, None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--python", default="3.12")
    parser.add_argument("--image", action="append", default=[])
    parser.add_argument("--arch", action="append", default=[])
    parser.add_argument("--wheelcheck", default="target/release/wheelcheck")
    args = parser.parse_args()
    args.image = args.image or ["alpine", "slim"]
    args.arch = args.arch or ["amd64", "arm64"]

    pip = venv_pip()
    pip_version = subprocess.run([pip, "--version"], capture_output=True, text=True).stdout.split()[1]
    report = wheelcheck_report(args)
    mismatches = 0
    compared = 0
    for target in report["targets"]:
        label = f"{target['image']} ({target['arch']})"
        packages = target["packages"]
        wheels_only = target["resolution"]["ok"] and all(p["kind"] == "wheel" for p in packages)
        # pip runs with --only-binary: compare with wheelcheck's binary-only resolution, which is
        # the default one when that is wheels-only, else given per package as binary_only_version.
        binary_only_ok = wheels_only or (target["resolution"]["ok"] and all(p["binary_only_version"] for p in packages))
        theirs, error = pip_choices(pip, args.file, args.python, target["platform_tags"])
        if theirs is None:
            ok = not binary_only_ok
            print(f"{label}: pip --only-binary fails ({error}); wheelcheck binary-only: "
                  f"{'fails too' if ok else 'resolves'} -> {'MATCH' if ok else 'DIFF'}")
            mismatches += 0 if ok else 1
            continue
        if not wheels_only:
            print(f"{label}: pip {pip_version}, comparing versions with wheelcheck's binary_only_version")
            for p in packages:
                pip_file = theirs.get(p["name"])
                want = p["binary_only_version"]
                got = pip_file and pip_file.split("-")[1]
                compared += 1
                status = "MATCH " if want == got else "DIFF  "
                mismatches += want != got
                print(f"  {status} {p['name']:<28} wheelcheck={want} pip={got}")
            continue
        ours = {p["name"]: p["file"] for p in packages}
        print(f"{label}: pip {pip_version}")
        for name in sorted(set(ours) | set(theirs)):
            a, b = ours.get(name), theirs.get(name)
            compared += 1
            if a == b:
                print(f"  MATCH  {name:<28} {a}")
            elif a is None or b is None:
                print(f"  marker {name:<28} wheelcheck={a} pip={b} (pip evaluates markers on this host)")
            else:
                mismatches += 1
                print(f"  DIFF   {name:<28} wheelcheck={a} pip={b}")
    print(f"\n{compared} package choices compared, {mismatches} differences")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
