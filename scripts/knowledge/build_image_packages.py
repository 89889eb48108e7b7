#!/usr/bin/env python3
"""Write the installed package names of each official image we have a record of.

Input: shared/reference/images/python-<version>-<variant>.tsv (dpkg or apk package lists of
the official images, from docker-library/repo-info; see that folder's README).
Output: data/knowledge/image-packages/python-<version>-<variant>.txt, one package name a line,
with a header naming the source. wheelcheck uses them to leave out of an added package's
dependency closure what the image already has, when it estimates sizes.

Usage: python3 scripts/knowledge/build_image_packages.py [--reference ../shared/reference/images]
"""

import argparse
import datetime
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", default=os.path.join(REPO, "..", "shared", "reference", "images"))
    args = parser.parse_args()
    out_dir = os.path.join(REPO, "data", "knowledge", "image-packages")
    os.makedirs(out_dir, exist_ok=True)
    written = 0
    for name in sorted(os.listdir(args.reference)):
        if not (name.startswith("python-") and name.endswith(".tsv")):
            continue
        header, packages = [], []
        with open(os.path.join(args.reference, name)) as f:
            for line in f:
                line = line.rstrip("\n")
                if line.startswith("#"):
                    key = line[1:].strip().split(":", 1)[0]
                    if key in ("image_tag", "created", "source_repository", "source_path", "source_commit", "package_manager"):
                        header.append(line[1:].strip())
                elif line:
                    packages.append(line.split("\t")[0])
        with open(os.path.join(out_dir, name[:-4] + ".txt"), "w") as f:
            f.write(f"# installed packages of the image, from shared/reference/images/{name}\n")
            for item in header:
                f.write(f"# {item}\n")
            f.write(f"# generated: {datetime.date.today()} by scripts/knowledge/build_image_packages.py\n")
            for package in sorted(set(packages)):
                f.write(package + "\n")
        written += 1
    print(f"wrote {written} files to {out_dir}")
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main())
