#!/usr/bin/env python3
"""Generate data/images.toml, wheelcheck's catalog of official Python images.

Input: the reference inventories in shared/reference/images/ (one TSV per
image tag, transcribed from docker-library/repo-info; read its README.md).
Each TSV starts with `# key: value` header lines (image_tag, image_id,
created, virtual_size, arch, source_path, source_commit, ...) followed by the
image's OS packages. From the packages we read the C library: `libc6` on
Debian (2.41-12+deb13u4 -> glibc 2.41) and `musl` on Alpine (1.2.6-r2 ->
musl 1.2).

Output: one `[[image]]` per python minor x image family, each for amd64 and
arm64. Combinations without a TSV are still listed (wheelcheck must be able to
target them) with `derived_from` naming the sibling whose libc/distro data is
used; their size and image id are left out, and their full Python version is
only filled in when a record of the same minor exists (all variants of one
minor are built from the same PYTHON_VERSION), with `python_full_from` saying
which record it came from.

The defaults (newest Python, what the bare `alpine`, `slim` and default tags
point at) are read from the records whose source file is an alias such as
`3-slim-trixie.md` or `3.13.15-slim.md`, so they follow the data.

Python 3 standard library only. Usage:

    python3 scripts/gen_images.py [--reference DIR] [--out FILE] [--date YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE = ROOT.parent / "shared" / "reference" / "images"
DEFAULT_OUT = ROOT / "data" / "images.toml"

PYTHONS = [(3, 10), (3, 11), (3, 12), (3, 13), (3, 14)]
ARCHES = ["amd64", "arm64"]

# suffix -> (variant, distro, release). Order = order in the catalog.
FAMILIES = {
    "alpine3.24": ("alpine", "alpine", "3.24"),
    "alpine3.23": ("alpine", "alpine", "3.23"),
    "slim-trixie": ("slim", "debian", "trixie"),
    "slim-bookworm": ("slim", "debian", "bookworm"),
    "trixie": ("full", "debian", "trixie"),
    "bookworm": ("full", "debian", "bookworm"),
}

SIZE_UNITS = {"Kb": 10**3, "Mb": 10**6, "Gb": 10**9}  # repo-info scan-local.sh: powers of 1000


class DataError(Exception):
    pass


def read_record(path: pathlib.Path) -> dict:
    """Header fields and the libc/release packages of one reference TSV."""
    header, packages = {}, {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            key, sep, value = line[1:].strip().partition(": ")
            if sep and key not in header:
                header[key] = value.strip()
        elif line.strip():
            cols = line.split("\t")
            packages.setdefault(cols[0], cols[1] if len(cols) > 1 else "")
    for key in ("image_tag", "created", "virtual_size", "source_path", "source_commit", "arch"):
        if key not in header:
            raise DataError(f"{path.name}: header has no {key!r}")
    return build_record(path, header, packages)


def build_record(path: pathlib.Path, header: dict, packages: dict) -> dict:
    m = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-(.+)", header["image_tag"])
    if not m or m.group(4) not in FAMILIES:
        raise DataError(f"{path.name}: unexpected image_tag {header['image_tag']!r}")
    suffix = m.group(4)
    variant, distro, release = FAMILIES[suffix]
    libc, libc_version, libc_pkg = libc_of(path, distro, packages)
    release_pkg = "base-files" if distro == "debian" else "alpine-release"
    return {
        "file": path.name,
        "python": (int(m.group(1)), int(m.group(2))),
        "python_full": f"{m.group(1)}.{m.group(2)}.{m.group(3)}",
        "suffix": suffix,
        "libc": libc,
        "libc_version": libc_version,
        "libc_package": libc_pkg,
        "release_package": f"{release_pkg} {packages.get(release_pkg, '?')}",
        "header": header,
    }


def libc_of(path: pathlib.Path, distro: str, packages: dict) -> tuple[str, str, str]:
    """(kind, "major.minor", "package version") from libc6 or musl."""
    name, kind = ("libc6", "glibc") if distro == "debian" else ("musl", "musl")
    version = packages.get(name)
    m = re.match(r"(\d+)\.(\d+)", version or "")
    if not m:
        raise DataError(f"{path.name}: no usable {name} package version ({version!r})")
    return kind, f"{m.group(1)}.{m.group(2)}", f"{name} {version}"


def size_bytes(text: str) -> int | None:
    """'~ 119.42 Mb' -> 119420000 (approximate: rounded to 2 decimals upstream)."""
    m = re.fullmatch(r"~?\s*([\d.]+)\s*(Kb|Mb|Gb)", text.strip())
    if not m:
        return None
    return round(float(m.group(1)) * SIZE_UNITS[m.group(2)])


DEFAULT_PATTERNS = {
    "python": r"3-.+",  # 3-slim-trixie.md: the newest Python
    "full": r"\d+\.\d+(\.\d+)?",  # 3.12.14.md: the bare version tag
    "slim": r"\d+\.\d+(\.\d+)?-slim",  # 3.13.15-slim.md: the "slim" tag
    "alpine": r"\d+\.\d+(\.\d+)?-alpine",  # 3.12.14-alpine.md: the "alpine" tag
}


def infer_defaults(records: list[dict]) -> tuple[dict, list[str]]:
    """Read the defaults off records whose source file is an alias tag, and
    say which files they came from."""
    found: dict[str, set] = {key: set() for key in DEFAULT_PATTERNS}
    proof = []
    for rec in records:
        alias = pathlib.PurePosixPath(rec["header"]["source_path"]).stem
        for key, pattern in DEFAULT_PATTERNS.items():
            if re.fullmatch(pattern, alias):
                found[key].add(rec["python"] if key == "python" else rec["suffix"])
                proof.append(f"{alias}.md is {rec['header']['image_tag']}")
    for key, values in found.items():
        if len(values) != 1:
            raise DataError(f"cannot infer default {key}: candidates {sorted(values)}")
    return {key: values.pop() for key, values in found.items()}, sorted(proof)


def alias_names(py: str, full: str | None, suffix: str, defaults: dict) -> list[str]:
    """Every tag of one image, as docker-library's generate-stackbrew-library.sh
    names them: version aliases (X.Y.Z, X.Y, and 3/latest for the newest
    Python) crossed with the suffix and its short forms (slim, alpine, none)."""
    newest = py == "{}.{}".format(*defaults["python"])
    versions = [py] + ([full] if full else []) + (["3", "latest"] if newest else [])
    suffixes = [suffix]
    suffixes += ["slim"] if suffix == defaults["slim"] else []
    suffixes += ["alpine"] if suffix == defaults["alpine"] else []
    suffixes += [""] if suffix == defaults["full"] else []
    names = []
    for v in versions:
        for s in suffixes:
            if v == "latest":
                names.append(s or "latest")
            else:
                names.append(f"{v}-{s}" if s else v)
    return [f"python:{n}" for n in names]


def pick_sibling(py: tuple, suffix: str, by_key: dict) -> dict | None:
    """Closest Python minor of the same family that has a record (newer wins ties)."""
    candidates = [rec for (p, s), rec in by_key.items() if s == suffix]
    candidates.sort(key=lambda r: (abs(r["python"][1] - py[1]), -r["python"][1]))
    return candidates[0] if candidates else None


def source_text(rec: dict) -> str:
    h = rec["header"]
    return (
        f"shared/reference/images/{rec['file']} (docker-library/repo-info "
        f"{h['source_path']} @ {h['source_commit']})"
    )


def full_version_for(py: tuple, records: list[dict]) -> tuple[str | None, str | None]:
    fulls = {(r["python_full"], r["header"]["image_tag"]) for r in records if r["python"] == py}
    versions = {f for f, _ in fulls}
    if len(versions) != 1:
        return None, None
    return versions.pop(), sorted(t for _, t in fulls)[0]


def make_entry(py: tuple, suffix: str, by_key: dict, records: list, defaults: dict) -> dict:
    variant, distro, release = FAMILIES[suffix]
    rec = by_key.get((py, suffix))
    base = rec or pick_sibling(py, suffix, by_key)
    if base is None:
        raise DataError(f"no record for any python in family {suffix}")
    py_s = f"{py[0]}.{py[1]}"
    entry = {
        "tag": f"python:{py_s}-{suffix}",
        "python": py_s,
        "variant": variant,
        "distro": distro,
        "release": release,
        "libc": base["libc"],
        "libc_version": base["libc_version"],
        "libc_package": base["libc_package"],
        "release_package": base["release_package"],
        "arches": ARCHES,
        "source": source_text(base),
    }
    if rec:
        h = rec["header"]
        entry["python_full"] = rec["python_full"]
        entry.update(size_fields(h))
        entry["created"] = h["created"]
        entry["image_id"] = h.get("image_id")
        entry["record_tag"] = h["image_tag"]
    else:
        full, full_from = full_version_for(py, records)
        if full:
            entry["python_full"] = full
            entry["python_full_from"] = full_from
        entry["derived_from"] = f"python:{base['python'][0]}.{base['python'][1]}-{suffix}"
        entry["note"] = derived_note(full, base)
    entry["aliases"] = [
        a for a in alias_names(py_s, entry.get("python_full"), suffix, defaults) if a != entry["tag"]
    ]
    return entry


def size_fields(header: dict) -> dict:
    size = size_bytes(header["virtual_size"])
    if size is None:
        return {}
    return {"size_bytes": size, "size_text": header["virtual_size"], "size_arch": "amd64"}


def derived_note(full: str | None, base: dict) -> str:
    what = (
        "Python full version taken from a sibling record of the same minor (see python_full_from)"
        if full
        else "Python full version unknown"
    )
    return (
        "No published record for this tag in the reference data: libc and distro are those of "
        f"{base['header']['image_tag']} (same base image); {what}; image size and id unknown."
    )


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


FIELD_ORDER = [
    "tag", "aliases", "python", "python_full", "python_full_from", "variant", "distro",
    "release", "release_package", "libc", "libc_version", "libc_package", "arches",
    "size_bytes", "size_text", "size_arch", "created", "image_id", "record_tag", "source",
    "derived_from", "note",
]


def render(entries: list, defaults: dict, proof: list, records: list, date: str) -> str:
    commits = sorted({(r["header"]["source_commit"], r["header"]["created"][:10]) for r in records})
    out = [
        "# Official Python Docker images known to wheelcheck (embedded into the binary).",
        f"# Generated by scripts/gen_images.py on {date}; do not edit by hand, re-run the script.",
        "# Sources: shared/reference/images/*.tsv, transcribed from docker-library/repo-info",
        "#   repos/python/local/*.md (linux/amd64 inventories) at commits:",
        *[f"#   {c} (images created {d})" for c, d in commits],
        "# libc_version: major.minor of the libc6 (Debian) or musl (Alpine) package in the image.",
        "# size_bytes: repo-info's 'Virtual Size' of the amd64 image, in powers of 1000 and",
        "#   rounded to two decimals upstream, so approximate (see size_text).",
        "# arches: the official images are published for both; libc and distro data of the",
        "#   amd64 record hold for arm64 too (same Debian/Alpine release, same package versions).",
        "# Entries with derived_from have no record of their own; see their note.",
        "",
        "schema_version = 1",
        "",
        "# python: what python:3 and python:latest run; alpine/slim/full: the image family",
        "# that `python:X.Y-alpine`, `python:X.Y-slim` and `python:X.Y` point at (newest Alpine,",
        "# current Debian release). Read from the alias-named records listed in `evidence`.",
        "[defaults]",
        f"python = {toml_value('{}.{}'.format(*defaults['python']))}",
        f"alpine = {toml_value(defaults['alpine'])}",
        f"slim = {toml_value(defaults['slim'])}",
        f"full = {toml_value(defaults['full'])}",
        f"evidence = {toml_value(proof)}",
    ]
    for entry in entries:
        out += ["", "[[image]]"]
        out += [f"{k} = {toml_value(entry[k])}" for k in FIELD_ORDER if entry.get(k) is not None]
    return "\n".join(out) + "\n"


def check_unique(entries: list[dict]) -> None:
    seen: dict[str, str] = {}
    for entry in entries:
        for name in [entry["tag"], *entry["aliases"]]:
            if name in seen:
                raise DataError(f"{name} names both {seen[name]} and {entry['tag']}")
            seen[name] = entry["tag"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=pathlib.Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    parser.add_argument("--date", default=datetime.date.today().isoformat())
    args = parser.parse_args()
    try:
        records = [read_record(p) for p in sorted(args.reference.glob("python-*.tsv"))]
        if not records:
            raise DataError(f"no python-*.tsv files in {args.reference}")
        by_key = {(r["python"], r["suffix"]): r for r in records}
        defaults, proof = infer_defaults(records)
        entries = [
            make_entry(py, suffix, by_key, records, defaults)
            for py in PYTHONS
            for suffix in FAMILIES
        ]
        check_unique(entries)
    except DataError as e:
        print(f"gen_images.py: {e}", file=sys.stderr)
        return 1
    text = render(entries, defaults, proof, records, args.date)
    try:
        import tomllib  # Python 3.11+: make sure the output parses

        tomllib.loads(text)
    except ImportError:
        pass
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}: {len(entries)} images from {len(records)} records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
