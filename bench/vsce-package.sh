#!/usr/bin/env bash
# Wall time of `cargo xtask vsce-package` against `npx vsce package` on the
# same extension (the example in examples/mult-agentes/vscode-extension),
# side by side in one run. Prints a table (milliseconds).
#
#   bench/vsce-package.sh [RUNS]        default 7 runs each, after 1 warm-up
#
# Both sides run the same pinned @vscode/vsce from target/node-tools/ (the
# first `cargo xtask vsce-package` installs it). The project is a copy in a
# temporary folder with lockstep off, so the repository's dist/ is untouched.
set -euo pipefail

runs=${1:-7}
repo=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target}
tools=$CARGO_TARGET_DIR/node-tools
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cp -r "$repo/examples/mult-agentes/vscode-extension" "$work/ext"
printf '[vscode]\npath = "ext"\nlockstep = false\n' > "$work/release-kit.toml"

cd "$repo"
cargo build --quiet -p xtask
xtask=$CARGO_TARGET_DIR/debug/xtask
# Warm-up: provisions vsce on first use, fills the page cache.
cargo xtask --root "$work" --no-env-file -q vsce-package > /dev/null
(cd "$work/ext" && npx --prefix "$tools" --no-install vsce package --no-dependencies -o "$work/npx.vsix" > /dev/null)

now_ms() { date +%s%3N; }

declare -A samples=([cargo_xtask]="" [xtask_bin]="" [npx]="")
run_cargo_xtask() { (cd "$repo" && cargo xtask --root "$work" --no-env-file -q vsce-package); }
run_xtask_bin() { "$xtask" --root "$work" --no-env-file -q vsce-package; }
run_npx() { (cd "$work/ext" && npx --prefix "$tools" --no-install vsce package --no-dependencies -o "$work/npx.vsix"); }

# Interleaved, so that the machine's load weighs on all three alike.
for _ in $(seq "$runs"); do
    for name in cargo_xtask xtask_bin npx; do
        t0=$(now_ms)
        "run_$name" > /dev/null 2>&1
        t1=$(now_ms)
        samples[$name]+=" $((t1 - t0))"
    done
done

stats() { # prints min median mean max of the numbers given
    printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1; s+=$1} END {
        m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2;
        printf "%6d %8d %8d %6d", a[1], m, s/NR, a[NR] }'
}

vsce_version=$(node -p "require('$tools/node_modules/@vscode/vsce/package.json').version")
echo "vsce-package wall time, $runs runs each (ms); vsce $vsce_version, node $(node --version), $(nproc) cores"
printf '%-44s %6s %8s %8s %6s\n' command min median mean max
printf '%-44s %s\n' "cargo xtask vsce-package" "$(stats ${samples[cargo_xtask]})"
printf '%-44s %s\n' "target/debug/xtask vsce-package" "$(stats ${samples[xtask_bin]})"
printf '%-44s %s\n' "npx vsce package --no-dependencies" "$(stats ${samples[npx]})"
cmp -s <(unzip -Z1 "$work/dist/"*.vsix | sort) <(unzip -Z1 "$work/npx.vsix" | sort) \
    && echo "same files in both packages" || echo "WARNING: the packages list different files"
