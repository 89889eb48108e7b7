#!/usr/bin/env bash
# End-to-end timing of wheelcheck against `uv pip compile` on the same machine, in one run.
#
#   benches/e2e.sh [REQUIREMENTS_FILE...]      (default: the two files in examples/)
#   RUNS=5 (default) runs per measurement; the table gives the median.
#
# What it does:
#   1. makes a throwaway virtual environment under a temporary directory and `pip install uv`
#      there (from the package index, as pip is configured on this machine);
#   2. builds wheelcheck in release mode (`cargo build --release`);
#   3. for each file and each run, times (wall clock, `date +%s.%N`):
#        wheelcheck cold     empty cache (WHEELCHECK_CACHE_DIR=$(mktemp -d)), the default images
#                            (alpine, slim, full) on amd64 and arm64 = 6 targets, --python 3.12, -v
#        wheelcheck warm     the same command again on the same cache
#        wheelcheck offline  the same command with --offline on the same cache
#        uv cold             uv pip compile FILE --python-platform x86_64-unknown-linux-gnu
#                            --python-version 3.12 --python VENV/bin/python with an empty
#                            UV_CACHE_DIR=$(mktemp -d); uv's own defaults otherwise (index
#                            metadata by PEP 658 files or range requests), no uv config files
#        uv warm             the same command again on the same cache
#        uv offline          the same command with --offline on the same cache
#      Reports go to /dev/null. wheelcheck's exit codes 0 and 1 are answers (1 = some image needs
#      packages or a build); any other exit code, or a failing uv, is a failed run.
#   4. prints the date, machine, both versions, wheelcheck's `-v` network line (requests, bytes,
#      cache hits) for the first cold, warm and offline run of each file, every cold run's time,
#      network line and number of retried requests (to tell a network stall from our own time),
#      and a table of medians
#      with the ratios wheelcheck/uv. Exits 1 if any run failed.
#
# The two tools do different amounts of work: wheelcheck resolves 6 targets and reads the ELF
# files of the chosen wheels; uv resolves one platform and reads no ELF file. The ratios compare
# the answer each tool gives, as a user would wait for it.
#
# If PIP_INDEX_URL is set (wheelcheck reads it), it is given to uv as UV_DEFAULT_INDEX so that
# both tools ask the same index.
set -euo pipefail

RUNS=${RUNS:-5}
PYTHON_VERSION=${PYTHON_VERSION:-3.12}
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [ "$#" -gt 0 ]; then
  FILES=("$@")
else
  FILES=(examples/fastapi-requirements.txt examples/data-science-requirements.txt)
fi
for f in "${FILES[@]}"; do
  [ -r "$f" ] || { echo "e2e: cannot read $f" >&2; exit 2; }
done
case "$RUNS" in '' | *[!0-9]* | 0) echo "e2e: RUNS must be a positive integer" >&2; exit 2 ;; esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wheelcheck-e2e.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

log() { echo "e2e: $*" >&2; }

# --- uv, in a throwaway venv -------------------------------------------------------------------
log "installing uv into a throwaway venv ($WORK/venv)"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet uv >"$WORK/pip.log" 2>&1 || {
  cat "$WORK/pip.log" >&2
  exit 1
}
UV="$WORK/venv/bin/uv"
UV_ENV=(env -u UV_CACHE_DIR UV_NO_CONFIG=1 UV_PYTHON_DOWNLOADS=never)
if [ -n "${PIP_INDEX_URL:-}" ]; then
  UV_ENV+=("UV_DEFAULT_INDEX=$PIP_INDEX_URL")
fi

# --- wheelcheck, release build -----------------------------------------------------------------
log "building wheelcheck (cargo build --release)"
cargo build --release --quiet
WHEELCHECK="${CARGO_TARGET_DIR:-$ROOT/target}/release/wheelcheck"
[ -x "$WHEELCHECK" ] || { echo "e2e: no binary at $WHEELCHECK" >&2; exit 1; }

FAILED=0

# time_run OUT_VAR STDERR_FILE OK_CODES CMD... : runs CMD (stdout to /dev/null, stderr to
# STDERR_FILE), stores the wall time in seconds in OUT_VAR; a run whose exit code is not in
# OK_CODES (space-separated) is reported and counted as failed.
time_run() {
  local out=$1 errfile=$2 ok=$3
  shift 3
  local start end code=0
  start=$(date +%s.%N)
  "$@" >/dev/null 2>"$errfile" || code=$?
  end=$(date +%s.%N)
  printf -v "$out" '%s' "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')"
  if [[ " $ok " != *" $code "* ]]; then
    FAILED=$((FAILED + 1))
    log "FAILED (exit $code): $*"
    tail -n 20 "$errfile" | sed 's/^/    /' >&2
  fi
}

median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
    END { if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

WC_ARGS=(--python "$PYTHON_VERSION" --arch amd64 --arch arm64 -v)
# uv needs an interpreter to run; naming the venv's spares it the search of PATH (with pyenv
# shims, that search alone took 5 to 12 s per run on the build machine, nothing to do with
# resolving). The target Python and platform still come from the two flags.
UV_PLATFORM=(--python-platform x86_64-unknown-linux-gnu --python-version "$PYTHON_VERSION"
  --python "$WORK/venv/bin/python")

declare -A MED NETLINE UVLINE COLDRUNS
for file in "${FILES[@]}"; do
  wc_cold=() wc_warm=() wc_off=() uv_cold=() uv_warm=() uv_off=()
  for run in $(seq 1 "$RUNS"); do
    log "$file: run $run of $RUNS"
    cache=$(mktemp -d "$WORK/wc-cache.XXXXXX")
    err="$WORK/err.txt"
    time_run t "$err.cold" "0 1" env WHEELCHECK_CACHE_DIR="$cache" "$WHEELCHECK" "$file" "${WC_ARGS[@]}"
    wc_cold+=("$t")
    # Every cold run's network line and retries, so that an outlier can be told apart.
    COLDRUNS[$file]+="    run $run: ${t} s, $(grep -m1 '^network:' "$err.cold" || echo "(no network line)"), $(grep -c 'trying again' "$err.cold" || true) retried"$'\n'
    time_run t "$err.warm" "0 1" env WHEELCHECK_CACHE_DIR="$cache" "$WHEELCHECK" "$file" "${WC_ARGS[@]}"
    wc_warm+=("$t")
    time_run t "$err.off" "0 1" env WHEELCHECK_CACHE_DIR="$cache" "$WHEELCHECK" "$file" "${WC_ARGS[@]}" --offline
    wc_off+=("$t")
    if [ "$run" = 1 ]; then
      for phase in cold warm off; do
        NETLINE[$file.$phase]=$(grep -m1 '^network:' "$err.$phase" || echo "(no network line)")
      done
    fi
    rm -rf "$cache"

    cache=$(mktemp -d "$WORK/uv-cache.XXXXXX")
    time_run t "$err.uvcold" "0" "${UV_ENV[@]}" UV_CACHE_DIR="$cache" "$UV" pip compile "$file" "${UV_PLATFORM[@]}"
    uv_cold+=("$t")
    time_run t "$err.uvwarm" "0" "${UV_ENV[@]}" UV_CACHE_DIR="$cache" "$UV" pip compile "$file" "${UV_PLATFORM[@]}"
    uv_warm+=("$t")
    time_run t "$err.uvoff" "0" "${UV_ENV[@]}" UV_CACHE_DIR="$cache" "$UV" pip compile "$file" "${UV_PLATFORM[@]}" --offline
    uv_off+=("$t")
    if [ "$run" = 1 ]; then
      for phase in uvcold uvwarm uvoff; do
        UVLINE[$file.$phase]=$(grep -m1 '^Resolved' "$err.$phase" || echo "(no Resolved line)")
      done
    fi
    rm -rf "$cache"
  done
  MED[$file.wc.cold]=$(median "${wc_cold[@]}")
  MED[$file.wc.warm]=$(median "${wc_warm[@]}")
  MED[$file.wc.off]=$(median "${wc_off[@]}")
  MED[$file.uv.cold]=$(median "${uv_cold[@]}")
  MED[$file.uv.warm]=$(median "${uv_warm[@]}")
  MED[$file.uv.off]=$(median "${uv_off[@]}")
  MED[$file.runs]="wheelcheck cold ${wc_cold[*]} | warm ${wc_warm[*]} | offline ${wc_off[*]}; uv cold ${uv_cold[*]} | warm ${uv_warm[*]} | offline ${uv_off[*]}"
done

# --- report ------------------------------------------------------------------------------------
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit="$commit (with uncommitted changes)"
fi
echo "date:       $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine:    $(uname -m), $(nproc) cores, $(uname -sr)"
echo "wheelcheck: $("$WHEELCHECK" --version) (commit $commit)"
echo "uv:         $("$UV" --version)"
echo "runs:       $RUNS per measurement, median shown (wall clock seconds)"
echo "wheelcheck: ${WC_ARGS[*]} (default images alpine, slim, full x amd64, arm64 = 6 targets)"
echo "uv:         uv pip compile FILE ${UV_PLATFORM[*]/#$WORK/\$TMP}"
echo
for file in "${FILES[@]}"; do
  echo "$file"
  echo "  wheelcheck -v, first run: cold    ${NETLINE[$file.cold]}"
  echo "                            warm    ${NETLINE[$file.warm]}"
  echo "                            offline ${NETLINE[$file.off]}"
  echo "  uv, first run:            cold    ${UVLINE[$file.uvcold]}"
  echo "                            warm    ${UVLINE[$file.uvwarm]}"
  echo "                            offline ${UVLINE[$file.uvoff]}"
  echo "  all runs (s): ${MED[$file.runs]}"
  echo "  wheelcheck cold runs:"
  printf "%s" "${COLDRUNS[$file]}"
done
echo
printf '%-42s %-11s %8s %8s %8s %13s %13s\n' file tool cold warm offline "cold wc/uv" "warm wc/uv"
for file in "${FILES[@]}"; do
  printf '%-42s %-11s %8s %8s %8s %13s %13s\n' "$file" wheelcheck \
    "${MED[$file.wc.cold]}" "${MED[$file.wc.warm]}" "${MED[$file.wc.off]}" \
    "$(ratio "${MED[$file.wc.cold]}" "${MED[$file.uv.cold]}")" \
    "$(ratio "${MED[$file.wc.warm]}" "${MED[$file.uv.warm]}")"
  printf '%-42s %-11s %8s %8s %8s\n' "" uv \
    "${MED[$file.uv.cold]}" "${MED[$file.uv.warm]}" "${MED[$file.uv.off]}"
done
if [ "$FAILED" -gt 0 ]; then
  echo
  echo "FAILED: $FAILED run(s) failed (see the messages above); their times are in the medians"
  exit 1
fi
