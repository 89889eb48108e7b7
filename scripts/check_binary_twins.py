#!/usr/bin/env python3
"""Check every binary twin of scripts/binary_twins_input.toml against the package index and
write data/binary-twins.toml.

For each twin, the index's JSON simple API (PEP 691) page of its `project` must exist; the
script takes the project's latest final release (versions N(.N)* with an optional .postN;
pre-releases, dev releases and fully yanked releases are skipped) and records the tags of that
release's Linux and pure-Python wheels, so that wheelcheck can tell, per image, whether the twin
installs from a wheel there. A twin whose project is missing, or whose latest release has no
wheel for manylinux/musllinux x86_64/aarch64 or any platform, stops the script with an error.

    scripts/check_binary_twins.py                 # the index of src/app/mod.rs's DEFAULT_INDEX
    scripts/check_binary_twins.py --index-url URL # another PEP 691 index

Needs only the Python standard library (3.11+ for tomllib).
"""

import argparse
import datetime
import json
import os
import re
import sys
import tomllib
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INPUT = os.path.join(ROOT, "scripts", "binary_twins_input.toml")
OUTPUT = os.path.join(ROOT, "data", "binary-twins.toml")
ACCEPT = "application/vnd.pypi.simple.v1+json"
FINAL = re.compile(r"^(\d+(?:\.\d+)*)(?:\.post(\d+))?$")
LINUX = re.compile(r"^(manylinux|musllinux)_\d+_\d+_(x86_64|aarch64)$|^manylinux(1|2010|2014)_(x86_64|aarch64)$")


def default_index():
    """The index wheelcheck itself uses by default: its one address lives in the Rust code."""
    with open(os.path.join(ROOT, "src", "app", "mod.rs")) as f:
        match = re.search(r'DEFAULT_INDEX: &str = "([^"]+)"', f.read())
    if not match:
        sys.exit("error: DEFAULT_INDEX not found in src/app/mod.rs; pass --index-url")
    return match.group(1)


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def fetch_page(index, project):
    url = index.rstrip("/") + "/" + normalize(project) + "/"
    request = urllib.request.Request(url, headers={"Accept": ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)
    except urllib.error.HTTPError as err:
        if err.code == 404:
            sys.exit(f"error: {project}: no such project on {index} (fix {INPUT})")
        raise


def version_of(filename, project):
    """The version in a wheel or sdist file name, or None."""
    stem = normalize(project).replace("-", "_")
    base = filename
    for ext in (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz"):
        if base.endswith(ext):
            base = base[: -len(ext)]
            break
    else:
        return None
    if filename.endswith(".whl"):
        parts = base.split("-")
        return parts[1] if len(parts) >= 5 else None
    lowered = base.lower().replace("-", "_").replace(".", "_")
    if not lowered.startswith(stem + "_"):
        return None
    return base[len(stem) + 1 :]


def sort_key(version):
    match = FINAL.match(version)
    release = tuple(int(p) for p in match.group(1).split("."))
    release = release + (0,) * (10 - len(release))
    return release, int(match.group(2) or -1)


def wheel_tags(filename):
    """The expanded python-abi-platform tags of a wheel file name."""
    parts = filename[: -len(".whl")].split("-")
    pythons, abis, platforms = parts[-3], parts[-2], parts[-1]
    return [
        f"{p}-{a}-{pl}".lower()
        for p in pythons.split(".")
        for a in abis.split(".")
        for pl in platforms.split(".")
    ]


def platform_summary(tags):
    """manylinux/musllinux x86_64/aarch64 and any, as the README and reports name them."""
    kinds = set()
    for tag in tags:
        platform = tag.split("-")[2]
        if platform == "any":
            kinds.add("any")
            continue
        family = "musllinux" if platform.startswith("musllinux") else "manylinux"
        arch = "aarch64" if platform.endswith("aarch64") else "x86_64"
        kinds.add(f"{family}_{arch}")
    order = ["manylinux_x86_64", "manylinux_aarch64", "musllinux_x86_64", "musllinux_aarch64", "any"]
    return [k for k in order if k in kinds]


def check(index, twin):
    page = fetch_page(index, twin["project"])
    releases = {}
    for f in page["files"]:
        version = version_of(f["filename"], twin["project"])
        if version is None or not FINAL.match(version) or f.get("yanked"):
            continue
        releases.setdefault(version, []).append(f["filename"])
    if not releases:
        sys.exit(f"error: {twin['project']}: no final, unyanked release on {index}")
    latest = max(releases, key=sort_key)
    tags = sorted(
        {
            tag
            for name in releases[latest]
            if name.endswith(".whl")
            for tag in wheel_tags(name)
            if tag.endswith("-any") or LINUX.match(tag.split("-")[2])
        }
    )
    if not tags:
        sys.exit(f"error: {twin['project']} {latest}: no Linux or pure-Python wheel on {index}")
    return latest, tags


def quote(text):
    return json.dumps(text, ensure_ascii=False)


def render(twins, checked, index):
    out = [
        "# data/binary-twins.toml: projects that install from a wheel where another is built from source.",
        "# GENERATED by scripts/check_binary_twins.py from scripts/binary_twins_input.toml;",
        "# do not edit by hand (edit the input and re-run the script).",
        f"# checked: {checked}, each project's simple-API JSON page on {index}",
        "# latest: the project's latest final release; wheel_tags: the expanded tags of that release's",
        "#   Linux (manylinux/musllinux x86_64/aarch64) and pure-Python wheels; wheels: their summary.",
        "",
        "[meta]",
        f'checked = "{checked}"',
    ]
    for twin, (latest, tags) in twins:
        out += ["", "[[twin]]"]
        for key in ("package", "install", "project", "source", "why", "caveat"):
            out.append(f"{key} = {quote(twin[key])}")
        out.append(f"latest = {quote(latest)}")
        out.append("wheels = [" + ", ".join(quote(k) for k in platform_summary(tags)) + "]")
        out.append("wheel_tags = [")
        out += [f"  {quote(tag)}," for tag in tags]
        out.append("]")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-url", help="a PEP 691 simple index [default: wheelcheck's]")
    args = parser.parse_args()
    index = args.index_url or default_index()
    label = args.index_url or "the default index (src/app/mod.rs)"
    with open(INPUT, "rb") as f:
        entries = tomllib.load(f)["twin"]
    results = []
    for twin in entries:
        latest, tags = check(index, twin)
        print(f"{twin['package']} -> {twin['install']}: {twin['project']} {latest}: "
              f"{', '.join(platform_summary(tags))} ({len(tags)} tags)")
        results.append((twin, (latest, tags)))
    checked = datetime.date.today().isoformat()
    with open(OUTPUT, "w") as f:
        f.write(render(results, checked, label))
    print(f"wrote {os.path.relpath(OUTPUT, ROOT)}")


if __name__ == "__main__":
    main()
