#!/usr/bin/env bash
# Benchmark: `cargo xtask publish` end to end against `twine upload` on the
# same files and the same local pypiserver, side by side. Prints a table.
# Usage: bench/publish.sh [ROUNDS]   (default 7; needs python3 and network
# on first use to provision the managed tools).
set -euo pipefail
cd "$(dirname "$0")/.."
export ROUNDS="${1:-7}"
cargo build --quiet -p xtask
target="${CARGO_TARGET_DIR:-target}"
xtask="$target/debug/xtask"
# Builds dist/ and provisions the managed venv (build, twine, pypiserver, passlib).
"$xtask" --no-env-file -q build >/dev/null
python="$target/release-kit/pypi-tools/bin/python"
exec "$python" bench/publish.py "$xtask" "$PWD"
