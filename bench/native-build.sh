#!/usr/bin/env bash
# Wall time of `cargo xtask build --package mult-agentes-native` against
# maturin run directly on the same package (examples/mult-agentes-native),
# cold (no cargo build folder: pyo3 compiles) and warm, side by side in one
# run. Prints a table (milliseconds).
#
#   bench/native-build.sh [WARM_RUNS] [COLD_RUNS]   default 7 warm, 1 cold each
#
# Both sides run the same pinned maturin from the managed tools
# (target/release-kit/pypi-tools; the warm-up installs it), with the same
# --target-dir handling and SOURCE_DATE_EPOCH. The xtask also runs
# `twine check --strict`, reads back each wheel's tags, hashes the files
# and moves them into dist/: the third row is maturin plus that twine
# check, the same guarantees by hand. The project is a copy in a temporary
# folder, so the repository's dist/ is untouched.
set -euo pipefail

warm_runs=${1:-7}
cold_runs=${2:-1}
repo=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target}
export SOURCE_DATE_EPOCH=1700000000
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git -C "$repo" ls-files -z examples/mult-agentes-native | while IFS= read -r -d '' f; do
    mkdir -p "$work/native/$(dirname "${f#examples/mult-agentes-native/}")"
    cp "$repo/$f" "$work/native/${f#examples/mult-agentes-native/}"
done
printf '[python]\npath = "native"\n' > "$work/release-kit.toml"

cd "$repo"
cargo build --quiet -p xtask
xtask=$CARGO_TARGET_DIR/debug/xtask
tools=$CARGO_TARGET_DIR/release-kit/pypi-tools/bin
# The xtask's cargo folder for the package, and the direct runs' own.
xtask_cargo=$CARGO_TARGET_DIR/release-kit/cargo/mult-agentes-native
direct_cargo=$work/direct-target

# Warm-up: installs maturin on first use, fetches the crates, fills caches.
"$xtask" --root "$work" --no-env-file -q build > /dev/null

now_ms() { date +%s%3N; }

run_xtask() { "$xtask" --root "$work" --no-env-file -q build --package mult-agentes-native; }
# maturin as a user runs it: from its activated virtual environment (the
# xtask too puts that environment first on PATH; a pyenv shim found first
# instead costs each of maturin's interpreter probes ~100 ms).
run_maturin() {
    rm -rf "$work/out"
    (cd "$work/native" && export PATH="$tools:$PATH" &&
        "$tools/maturin" build --release --out "$work/out" --target-dir "$direct_cargo" &&
        "$tools/maturin" sdist --out "$work/out")
}
run_maturin_twine() { run_maturin && "$tools/python" -m twine check --strict "$work/out/"*; }

declare -A samples=()
measure() { # KEY FUNCTION
    local t0 t1
    t0=$(now_ms)
    "$2" > /dev/null 2>&1 || { echo "$2 failed" >&2; "$2" >&2; exit 1; }
    t1=$(now_ms)
    samples[$1]+=" $((t1 - t0))"
}

# Interleaved, so that the machine's load weighs on all alike.
for _ in $(seq "$cold_runs"); do
    rm -rf "$xtask_cargo"; measure cold_xtask run_xtask
    rm -rf "$direct_cargo"; measure cold_maturin run_maturin
done
run_maturin > /dev/null 2>&1  # the direct folder warm again
for _ in $(seq "$warm_runs"); do
    measure warm_xtask run_xtask
    measure warm_maturin run_maturin
    measure warm_maturin_twine run_maturin_twine
done

stats() { # prints min median mean max of the numbers given
    printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1; s+=$1} END {
        m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2;
        printf "%7d %8d %8d %7d", a[1], m, s/NR, a[NR] }'
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END { print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2 }'; }

echo "native build wall time (ms): $cold_runs cold and $warm_runs warm runs each; $("$tools/maturin" --version), $(rustc --version | cut -d' ' -f1-2), $(nproc) cores"
printf '%-58s %7s %8s %8s %7s\n' command min median mean max
printf '%-58s %s\n' "cold: xtask build --package mult-agentes-native" "$(stats ${samples[cold_xtask]})"
printf '%-58s %s\n' "cold: maturin build --release + maturin sdist" "$(stats ${samples[cold_maturin]})"
printf '%-58s %s\n' "warm: xtask build --package mult-agentes-native" "$(stats ${samples[warm_xtask]})"
printf '%-58s %s\n' "warm: maturin build --release + maturin sdist" "$(stats ${samples[warm_maturin]})"
printf '%-58s %s\n' "warm: maturin build + sdist + twine check --strict" "$(stats ${samples[warm_maturin_twine]})"
x=$(median ${samples[warm_xtask]}); m=$(median ${samples[warm_maturin]}); t=$(median ${samples[warm_maturin_twine]})
echo "warm overhead (medians): $((x - m)) ms over maturin alone, $((x - t)) ms over maturin + twine check"
cmp -s <(cd "$work/dist" && sha256sum mult_agentes_native-*) <(cd "$work/out" && sha256sum mult_agentes_native-*) \
    && echo "same bytes from both sides" || echo "NOTE: the two sides' files differ (see SOURCE_DATE_EPOCH)"
