#!/usr/bin/env bash
# Figures of the settings core, side by side with what a user would
# otherwise run:
#   - `env status`: the built xtask binary's own time (median of N runs)
#     next to the Python one-liner operators used before (booleans only);
#   - the cold `cargo build -p xtask` time (fresh target dir), with
#     --cold-build.
# Usage: bench/settings.sh [--runs N] [--cold-build]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=51
cold=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --cold-build) cold=1; shift ;;
    *) echo "usage: $0 [--runs N] [--cold-build]" >&2; exit 2 ;;
  esac
done

cargo build -q -p xtask
bin=target/debug/xtask
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo xtask env init --root "$tmp" -q >/dev/null 2>&1
printf 'TWINE_PASSWORD=pypi-AgEIcHlwaS5vcmcabcdefghijklmnop\nHF_TOKEN=hf_abcdefghijklmnop\n' >> "$tmp/.env"

# median wall time in ms of "$@", run $runs times
median_ms() {
  local times=()
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}

status_ms=$(cd "$tmp" && median_ms "$OLDPWD/$bin" env status)
json_ms=$(cd "$tmp" && median_ms "$OLDPWD/$bin" env status --json)
py_ms=$(cd "$tmp" && median_ms python3 -c 'import os
for k in ["TWINE_PASSWORD","HF_TOKEN","VSCE_PAT","AUDIT_HMAC_KEY"]: print(k, bool(os.environ.get(k)))')

printf '\n%-48s %10s\n' "command (median of $runs runs)" "ms"
printf '%-48s %10s\n' "xtask env status" "$status_ms"
printf '%-48s %10s\n' "xtask env status --json" "$json_ms"
printf '%-48s %10s\n' "python3 one-liner (booleans of 4 variables)" "$py_ms"

if [ "$cold" = 1 ]; then
  cold_dir="$tmp/cold-target"
  t0=$(date +%s%N)
  CARGO_TARGET_DIR="$cold_dir" cargo build -q -p xtask
  t1=$(date +%s%N)
  printf '%-48s %10.1f\n' "cold cargo build -p xtask (s)" "$(echo "($t1 - $t0) / 1000000000" | bc -l)"
fi
