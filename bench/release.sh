#!/usr/bin/env bash
# Wall time of `cargo xtask release --rehearse` on a warm machine (tools
# provisioned, build requirements cached), and how it splits between
# release-kit's own code and the external tools (python -m build, twine,
# vsce, pypiserver, pip), per step. Median of N runs.
# Usage: bench/release.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
cargo build -q -p xtask
bin=target/debug/xtask
"$bin" release --rehearse -q >/dev/null   # warm-up: provisions tools, caches wheels
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for i in $(seq "$runs"); do
  t0=$(date +%s%N)
  "$bin" release --rehearse --json -q > "$out/$i.json"
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 )) > "$out/$i.wall"
done
python3 - "$out" "$runs" <<'PY'
import json, statistics, sys
d, n = sys.argv[1], int(sys.argv[2])
reps = [json.load(open(f"{d}/{i}.json")) for i in range(1, n + 1)]
walls = [int(open(f"{d}/{i}.wall").read()) / 1000 for i in range(1, n + 1)]
med = statistics.median
print(f"\ncargo xtask release --rehearse, median of {n} warm runs\n")
print(f"{'step':14} {'wall s':>8} {'tools s':>8} {'ours s':>8}")
for k, step in enumerate(reps[0]["steps"]):
    w = med(r["steps"][k]["seconds"] for r in reps)
    t = med(r["steps"][k]["tool_seconds"] for r in reps)
    print(f"{step['step']:14} {w:8.2f} {t:8.2f} {max(w - t, 0):8.2f}")
tot = med(r["seconds"] for r in reps)
tools = med(r["tool_seconds"] for r in reps)
print(f"{'pipeline':14} {tot:8.2f} {tools:8.2f} {max(tot - tools, 0):8.2f}")
print(f"{'process wall':14} {med(walls):8.2f}   (includes settings, preflight, cleanup)")
PY
