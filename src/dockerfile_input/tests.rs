//! Realistic Dockerfiles, as people write them.

use std::path::Path;

use super::*;

fn read_text(text: &str) -> Result<DockerfileInput, DockerfileError> {
    parse(text, Path::new("app/Dockerfile"), &|p: &str| {
        p == "requirements"
    })
}

fn files(input: &DockerfileInput) -> Vec<(bool, &str, usize)> {
    input
        .files
        .iter()
        .map(|f| (f.constraint, f.context_path.as_str(), f.line))
        .collect()
}

#[test]
fn a_single_stage_file_gives_its_image_and_requirements() {
    let input = read_text(
        "FROM python:3.12-slim-bookworm\n\
         WORKDIR /app\n\
         COPY requirements.txt .\n\
         RUN pip install --no-cache-dir -r requirements.txt\n\
         COPY . .\n\
         CMD [\"python\", \"main.py\"]\n",
    )
    .unwrap();
    assert_eq!(input.image, "python:3.12-slim-bookworm");
    assert_eq!(input.image_line, 1);
    assert_eq!(input.platform, None);
    assert_eq!(files(&input), [(false, "requirements.txt", 4)]);
    assert_eq!(input.context, Path::new("app"));
}

#[test]
fn arg_defaults_are_substituted_in_from() {
    let input = read_text(
        "# syntax=docker/dockerfile:1\n\
         ARG PYTHON_VERSION=3.12\n\
         ARG VARIANT=slim\n\
         FROM python:${PYTHON_VERSION}-${VARIANT} AS base\n\
         RUN pip install -r requirements.txt\n",
    )
    .unwrap();
    assert_eq!(input.image, "python:3.12-slim");
    assert_eq!(input.image_line, 4);
}

#[test]
fn multi_stage_builder_and_final_follow_the_final_stage_and_its_sources() {
    let input = read_text(
        "ARG PY=3.11\n\
         FROM python:${PY}-bookworm AS builder\n\
         WORKDIR /build\n\
         COPY requirements/ ./requirements/\n\
         RUN pip wheel --wheel-dir /wheels \\\n\
         \x20   -r requirements/prod.txt \\\n\
         \x20   -c requirements/constraints.txt\n\
         \n\
         FROM python:${PY}-bookworm AS test\n\
         COPY requirements-dev.txt .\n\
         RUN pip install -r requirements-dev.txt\n\
         \n\
         FROM python:${PY}-slim-bookworm AS runtime\n\
         COPY --from=builder /wheels /wheels\n\
         RUN pip install --no-index --find-links=/wheels /wheels/*\n",
    )
    .unwrap();
    assert_eq!(input.image, "python:3.11-slim-bookworm");
    assert_eq!(input.image_line, 13);
    // The test stage is not part of the final image; the builder is (COPY --from).
    assert_eq!(
        files(&input),
        [
            (false, "requirements/prod.txt", 5),
            (true, "requirements/constraints.txt", 5)
        ]
    );
}

#[test]
fn a_stage_built_on_a_stage_is_followed_back_to_its_image() {
    let input = read_text(
        "FROM python:3.12-alpine3.23 AS base\n\
         ENV REQS=/opt/requirements.txt\n\
         COPY requirements.txt /opt/\n\
         FROM base AS deps\n\
         RUN python -m pip install -r $REQS\n\
         FROM deps\n\
         CMD [\"app\"]\n",
    )
    .unwrap();
    assert_eq!(input.image, "python:3.12-alpine3.23");
    assert_eq!(input.image_line, 1);
    assert_eq!(files(&input), [(false, "requirements.txt", 5)]);
    assert_eq!(input.files[0].written, "/opt/requirements.txt");
}

#[test]
fn digests_are_dropped_and_a_digest_without_tag_is_an_error() {
    let input =
        read_text("FROM docker.io/library/python:3.12-slim@sha256:0123456789abcdef\nRUN true\n")
            .unwrap();
    assert_eq!(input.image, "docker.io/library/python:3.12-slim");
    let err = read_text("FROM python@sha256:0123456789abcdef\n").unwrap_err();
    assert_eq!(err.line, 1);
    assert!(err.to_string().starts_with("app/Dockerfile:1: "), "{err}");
    assert!(err.message.contains("without a tag"), "{err}");
}

#[test]
fn platform_gives_the_arch_unless_it_depends_on_the_building_machine() {
    let fixed = read_text("FROM --platform=linux/arm64 python:3.12-slim\n").unwrap();
    assert_eq!(fixed.platform.as_deref(), Some("linux/arm64"));
    let build = read_text(
        "FROM --platform=$BUILDPLATFORM python:3.12 AS build\n\
         RUN pip install -r requirements.txt\n\
         FROM python:3.12-slim\n\
         COPY --from=build /usr/local /usr/local\n",
    )
    .unwrap();
    assert_eq!(build.platform, None);
    assert_eq!(build.image, "python:3.12-slim");
    assert_eq!(files(&build), [(false, "requirements.txt", 2)]);
    let inherited =
        read_text("ARG ARCH=linux/arm64\nFROM --platform=${ARCH} python:3.13-slim AS a\nFROM a\n")
            .unwrap();
    assert_eq!(inherited.platform.as_deref(), Some("linux/arm64"));
    assert_eq!(inherited.platform_line, 2);
}

#[test]
fn continuation_lines_chains_heredocs_and_mounts_are_read() {
    let input = read_text(
        "FROM python:3.12-slim\n\
         WORKDIR /srv\n\
         COPY requirements* ./\n\
         RUN apt-get update \\\n\
         \x20   && apt-get install -y gcc \\\n\
         \x20   # build tools\n\
         \x20   && pip3 install --requirement=requirements-base.txt \\\n\
         \x20   && rm -rf /var/lib/apt/lists/*\n\
         RUN --mount=type=cache,target=/root/.cache \\\n\
         \x20   --mount=type=bind,source=deploy/pins.txt,target=/tmp/pins.txt \\\n\
         \x20   pip install -c /tmp/pins.txt -r requirements-extra.txt\n\
         RUN <<EOF\n\
         set -e\n\
         pip install -r requirements/more.txt\n\
         EOF\n\
         RUN [\"pip\", \"install\", \"-r\", \"exec.txt\"]\n",
    )
    .unwrap();
    assert_eq!(
        files(&input),
        [
            (false, "requirements-base.txt", 4),
            (true, "deploy/pins.txt", 9),
            (false, "requirements-extra.txt", 9),
            (false, "requirements/more.txt", 12),
            (false, "exec.txt", 16),
        ]
    );
}

#[test]
fn errors_name_the_dockerfile_and_line() {
    let unset = read_text("FROM python:${VERSION}-slim\n").unwrap_err();
    assert_eq!(
        (unset.line, unset.file.as_path()),
        (1, Path::new("app/Dockerfile"))
    );
    assert!(unset.message.contains("$VERSION has no value"), "{unset}");
    let outside =
        read_text("FROM python:3.12\nRUN echo hi\nRUN pip install -r /etc/app/requirements.txt\n")
            .unwrap_err();
    assert_eq!(outside.line, 3);
    assert!(
        outside.message.contains("no COPY before this line"),
        "{outside}"
    );
    assert!(outside.message.contains("taken to be app"), "{outside}");
    let broken = read_text("FROM python:3.12\nFROBNICATE x\n").unwrap_err();
    assert_eq!(broken.line, 2, "{broken}");
    let empty = read_text("# nothing\n").unwrap_err();
    assert!(empty.to_string().starts_with("app/Dockerfile:"), "{empty}");
}
