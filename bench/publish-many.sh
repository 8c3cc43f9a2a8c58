#!/usr/bin/env bash
# Benchmark: `cargo xtask publish` of a release of many files (an sdist and
# six platform wheels) against `twine upload` of the same files to the same
# local pypiserver, side by side in one run. Prints a table.
# Usage: bench/publish-many.sh [ROUNDS]   (default 7; needs python3, and the
# network on first use to provision the managed tools).
set -euo pipefail
cd "$(dirname "$0")/.."
export ROUNDS="${1:-7}"
cargo build --quiet -p xtask
target="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)"
xtask="$target/debug/xtask"
# Provisions the managed venv (build, twine, pypiserver, passlib).
"$xtask" --no-env-file -q build >/dev/null
python="$target/release-kit/pypi-tools/bin/python"
exec "$python" bench/publish-many.py "$xtask" "$target"
