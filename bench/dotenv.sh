#!/usr/bin/env bash
# Reading a large `.env`: release-kit (release build) side by side with
# python-dotenv (the version pinned in testkit/requirements.txt) on the same
# generated file (bench/dotenv_gen.py: LINES lines, about SIZE bytes, with
# quoted values, `${…}` references, comments, duplicates and secret-looking
# names), each timed as a whole process (wall clock, median of the runs):
#   - `xtask env status` and `env status --json` (parse, expand, check, print);
#   - python-dotenv `dotenv_values(path)`, what `load_dotenv()` computes
#     (its expansion copies every earlier value per line, so it is slow on
#     large files: --python-runs defaults to 1, 0 skips it);
#   - python-dotenv `dotenv_values(path, interpolate=False)` (parse only).
# Usage: bench/dotenv.sh [--lines N] [--size BYTES] [--runs N] [--python-runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
lines=100000
size=10000000
runs=11
py_runs=1
while [ $# -gt 0 ]; do
  case "$1" in
    --lines) lines="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --python-runs) py_runs="$2"; shift 2 ;;
    *) echo "usage: $0 [--lines N] [--size BYTES] [--runs N] [--python-runs N]" >&2; exit 2 ;;
  esac
done

cargo build -q --release -p xtask
bin="$PWD/target/release/xtask"
pin=$(grep '^python-dotenv==' testkit/requirements.txt)
venv="$PWD/target/bench-dotenv-venv"
if ! "$venv/bin/python" -m pip show -q python-dotenv 2>/dev/null | grep -q .; then
  python3 -m venv "$venv"
fi
if [ "$("$venv/bin/python" -c 'from importlib.metadata import version; print("python-dotenv==" + version("python-dotenv"))' 2>/dev/null)" != "$pin" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "$pin"
fi
python="$venv/bin/python"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
file="$tmp/.env"
python3 bench/dotenv_gen.py "$file" "$lines" "$size"
bytes=$(wc -c <"$file")
nlines=$(wc -l <"$file")

# median wall time in seconds of "$@" over $1 runs
median_s() {
  local n="$1"; shift
  local times=()
  for _ in $(seq "$n"); do
    local t0 t1
    t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]/1000000}'
}

cd "$tmp"
status=$(median_s "$runs" env -i PATH="$PATH" HOME="$tmp" "$bin" env status --env-file "$file")
json=$(median_s "$runs" env -i PATH="$PATH" HOME="$tmp" "$bin" env status --json --env-file "$file")
parse_only=$(median_s "$runs" env -i "$python" -c 'import sys; from dotenv import dotenv_values; dotenv_values(sys.argv[1], interpolate=False)' "$file")
values=skipped
if [ "$py_runs" -gt 0 ]; then
  values=$(median_s "$py_runs" env -i "$python" -c 'import sys; from dotenv import dotenv_values; dotenv_values(sys.argv[1])' "$file")
fi
warnings=$(env -i PATH="$PATH" HOME="$tmp" "$bin" env status --env-file "$file" 2>&1 >/dev/null | grep -c '^warning:' || true)

printf '\nfile: %s lines, %s bytes (%s warnings from release-kit)\n\n' "$nlines" "$bytes" "$warnings"
printf '%-58s %5s %12s\n' "reader (whole process, wall clock)" "runs" "median s"
printf '%-58s %5s %12s\n' "release-kit: xtask env status (release)" "$runs" "$status"
printf '%-58s %5s %12s\n' "release-kit: xtask env status --json (release)" "$runs" "$json"
printf '%-58s %5s %12s\n' "${pin}: dotenv_values(path)" "$py_runs" "$values"
printf '%-58s %5s %12s\n' "${pin}: dotenv_values(path, interpolate=False)" "$runs" "$parse_only"
