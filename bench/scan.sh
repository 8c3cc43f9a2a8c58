#!/usr/bin/env bash
# `cargo xtask scan` side by side with `detect-secrets scan` (PyPI, pinned
# in bench/requirements-scan.txt, installed into target/bench-scan-venv) and
# GNU `grep -rE` with one combined pattern (the floor), on a large real
# tree: the sources of the crates in the local cargo registry cache,
# unpacked into a temp dir (copied again until there are --min-files
# files). Files per second and peak memory (/usr/bin/time -v) of each, in
# one run, printed as a table.
#
# `--long-line MB` instead: one line of MB megabytes of random base64 (no
# newline, no `=`: hostile input, #17), scanned by the release build and,
# when GITLEAKS names a gitleaks binary, by `gitleaks dir`, side by side:
# wall and CPU (user + sys) seconds and peak memory.
#
# Usage: bench/scan.sh [--min-files N] [--runs N] [--no-detect-secrets]
#        bench/scan.sh --long-line MB
set -euo pipefail
cd "$(dirname "$0")/.."
min_files=20000
runs=3
with_ds=1
long_mb=0
usage="usage: $0 [--min-files N] [--runs N] [--no-detect-secrets] | --long-line MB"
while [ $# -gt 0 ]; do
  case "$1" in
    --min-files) min_files="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --no-detect-secrets) with_ds=0; shift ;;
    --long-line) long_mb="$2"; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; exit 2; }

if [ "$long_mb" != 0 ]; then
  cargo build -q --release -p xtask
  line=$(mktemp)
  trap 'rm -f "$line"' EXIT
  # 3 MiB of random bytes encode to 4 MiB of base64 with no padding.
  python3 -c 'import base64, os, sys
with open(sys.argv[1], "wb") as f:
    for _ in range(int(sys.argv[2]) // 4):
        f.write(base64.b64encode(os.urandom(3 << 20)))' "$line" "$long_mb"
  fmt='%-26s %8.2f s wall %8.2f s CPU %8.0f MB peak RSS\n'
  one() {
    local name=$1; shift
    /usr/bin/time -f '%e %U %S %M' -o "$line.time" "$@" > /dev/null 2>&1 || true
    read -r wall user sys kb < "$line.time"
    # shellcheck disable=SC2059
    printf "$fmt" "$name" "$wall" "$(awk "BEGIN {print $user + $sys}")" "$(awk "BEGIN {print $kb / 1024}")"
  }
  printf '%s MB of base64 on one line; load average %s\n' "$long_mb" "$(cut -d' ' -f1 /proc/loadavg)"
  one "xtask scan (release)" target/release/xtask scan --no-env-file --no-live "$line"
  if [ -n "${GITLEAKS:-}" ]; then
    one "gitleaks dir ($("$GITLEAKS" version))" "$GITLEAKS" dir --no-banner "$line"
  fi
  rm -f "$line.time"
  exit 0
fi

cargo build -q --release -p xtask
cargo build -q -p xtask
bin="$PWD/target/release/xtask"
# The profile `cargo xtask` runs in (Cargo.toml optimises the scanner's
# hot dependencies there).
dev_bin="$PWD/target/debug/xtask"
venv="$PWD/target/bench-scan-venv"
if [ "$with_ds" = 1 ] && [ ! -x "$venv/bin/detect-secrets" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r bench/requirements-scan.txt
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tree="$tmp/tree"
shopt -s nullglob
crates=("${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/*.crate)
[ ${#crates[@]} -gt 0 ] || { echo "no .crate files in the cargo registry cache; run a cargo build first" >&2; exit 2; }
copies=0
files=0
while [ "$files" -lt "$min_files" ] && [ "$copies" -lt 20 ]; do
  copies=$((copies + 1))
  mkdir -p "$tree/copy$copies"
  for f in "${crates[@]}"; do tar -xzf "$f" -C "$tree/copy$copies"; done
  files=$(find "$tree" -type f | wc -l)
done
bytes=$(find "$tree" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
# Warm the page cache so that every tool reads from memory.
find "$tree" -type f -exec cat {} + > /dev/null

# One ERE with every rule of ours, for grep (byte mode, binary files skipped).
pattern='pypi-AgE[A-Za-z0-9_-]{50,}|sk-ant-(api|admin)[0-9]{2}-[A-Za-z0-9_-]{80,}|(hf_|api_org_)[A-Za-z]{34}|gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82}|(A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z2-7]{16}|(key|token|secret|passw|pwd|cred|auth)[A-Za-z0-9_.-]{0,20}["'"'"']?[ ]*(:{0,3}=|\?=|=>|:)[ ]*["'"'"']?[A-Za-z0-9_.=+/~-]{12,150}|[A-Za-z0-9]{52}JQQJ99[A-Za-z0-9]{18}AZDO|[a-z2-7]{52}|rediss?://[^ :@/]*:[^ @/]+@|[A-Za-z0-9_]*(_KEY|_TOKEN|_SECRET|_PAT|_key|_token|_secret|_pat)["'"'"']?[ ]*[:=][ ]*["'"'"']?[0-9a-fA-F]{32,}'

# Runs "$@" in the tree $runs times under /usr/bin/time -v; sets $secs
# (best wall time) and $rss_mb (peak RSS of that run), output to $out.
measure() {
  local n=$1; shift
  secs=""; rss_mb=""
  for _ in $(seq "$n"); do
    (cd "$tree" && /usr/bin/time -v -o "$tmp/time" "$@" > "$tmp/out" 2> "$tmp/err") || true
    local wall kb s
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tmp/time")
    s=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time")
    if [ -z "$secs" ] || awk "BEGIN {exit !($s < $secs)}"; then
      secs=$s; rss_mb=$(awk "BEGIN {printf \"%.1f\", $kb / 1024}")
      cp "$tmp/out" "$tmp/out.best"
    fi
  done
}

# Two loaded secrets, so that our run searches live values too.
export HF_TOKEN=hf_benchLiveValueNotInTheTreeQzXw
export VSCE_PAT=benchlivepatvaluenotinthetree7q
measure "$runs" "$bin" scan --no-env-file --root "$tree"
ours_s=$secs; ours_mb=$rss_mb
ours_hits=$(wc -l < "$tmp/out.best")
measure 1 "$dev_bin" scan --no-env-file --root "$tree"
dev_s=$secs; dev_mb=$rss_mb
dev_hits=$(wc -l < "$tmp/out.best")
unset HF_TOKEN VSCE_PAT

measure "$runs" env LC_ALL=C grep -rEIn "$pattern" .
grep_s=$secs; grep_mb=$rss_mb
grep_hits=$(wc -l < "$tmp/out.best")

if [ "$with_ds" = 1 ]; then
  ds_version=$("$venv/bin/detect-secrets" --version)
  measure 1 "$venv/bin/detect-secrets" scan --all-files .
  ds_s=$secs; ds_mb=$rss_mb
  ds_hits=$(python3 -c 'import json,sys; print(sum(len(v) for v in json.load(open(sys.argv[1]))["results"].values()))' "$tmp/out.best")
fi

rate() { awk "BEGIN {printf \"%.0f\", $files / ($1 > 0 ? $1 : 0.001)}"; }
printf '\ntree: %d files, %.0f MB (%d crates from the cargo registry cache, %d cop%s); best of %d runs (detect-secrets: 1)\n\n' \
  "$files" "$(awk "BEGIN {print $bytes / 1e6}")" "${#crates[@]}" "$copies" "$([ "$copies" = 1 ] && echo y || echo ies)" "$runs"
printf '%-34s %10s %12s %14s %10s\n' "tool" "seconds" "files/s" "peak RSS MB" "hits"
printf '%-34s %10.2f %12s %14s %10s\n' "cargo xtask scan (release)" "$ours_s" "$(rate "$ours_s")" "$ours_mb" "$ours_hits"
printf '%-34s %10.2f %12s %14s %10s\n' "cargo xtask scan (dev, 1 run)" "$dev_s" "$(rate "$dev_s")" "$dev_mb" "$dev_hits"
if [ "$with_ds" = 1 ]; then
  printf '%-34s %10.2f %12s %14s %10s\n' "detect-secrets scan ($ds_version)" "$ds_s" "$(rate "$ds_s")" "$ds_mb" "$ds_hits"
fi
printf '%-34s %10.2f %12s %14s %10s\n' "grep -rEI, one pattern (floor)" "$grep_s" "$(rate "$grep_s")" "$grep_mb" "$grep_hits"
echo
if [ "$with_ds" = 1 ]; then
  awk "BEGIN {printf \"xtask scan vs detect-secrets: %.0fx faster (target: >= 100x)\n\", $ds_s / $ours_s}"
fi
awk "BEGIN {printf \"xtask scan vs grep:           %.2fx the floor's time (target: <= 3x)\n\", $ours_s / $grep_s}"
awk "BEGIN {printf \"dev profile vs grep:          %.2fx (target: <= 3x); vs release: %.2fx (target: <= 2x)\n\", $dev_s / $grep_s, $dev_s / $ours_s}"
