"""End-to-end `cargo xtask publish` against running twine directly on the
same files and the same local pypiserver, side by side in one run.

Run through bench/publish.sh (it builds the xtask and dist/ first). Each
round uploads the sdist and the wheel to an empty index, once by `twine
upload` exactly as our publish calls it, once by the xtask (index query,
checks, twine); the index is emptied between uploads. Prints a table.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import publish_index

ROUNDS = int(os.environ.get("ROUNDS", "7"))
xtask, root, python = sys.argv[1], sys.argv[2], sys.executable
dist = os.path.join(root, "dist")
files = sorted(os.path.join(dist, f) for f in os.listdir(dist)
               if f.endswith((".whl", ".tar.gz")))
assert len(files) == 2, f"expected an sdist and a wheel in {dist}: {files}"

work = tempfile.mkdtemp(prefix="bench-publish-")
server, url, packages, env = publish_index.start(python, work)
twine_cmd = [python, "-m", "twine", "upload", "--non-interactive",
             "--disable-progress-bar", "--repository-url", url, *files]
xtask_cmd = [xtask, "--root", root, "--no-env-file", "-q", "publish", "--repository-url", url]


def empty_index():
    for f in os.listdir(packages):
        os.remove(os.path.join(packages, f))


def timed(cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"{cmd[0]} failed:\n{r.stdout}\n{r.stderr}")
    assert len(os.listdir(packages)) == 2, "both files must be on the index"
    return dt


twine_times, xtask_times, rerun_times = [], [], []
try:
    for _ in range(ROUNDS):
        empty_index()
        twine_times.append(timed(twine_cmd))
        empty_index()
        xtask_times.append(timed(xtask_cmd))
        rerun_times.append(timed(xtask_cmd))  # everything skipped
finally:
    server.terminate()
    server.wait()
    shutil.rmtree(work, ignore_errors=True)


def row(name, xs):
    ms = [x * 1000 for x in xs]
    return f"| {name:<38} | {statistics.median(ms):8.0f} | {min(ms):8.0f} | {max(ms):8.0f} |"


print(f"\npublish benchmark: {ROUNDS} rounds, 2 files, pypiserver on 127.0.0.1, times in ms\n")
print(f"| {'command':<38} | {'median':>8} | {'min':>8} | {'max':>8} |")
print(f"|{'-' * 40}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
print(row("twine upload (direct)", twine_times))
print(row("cargo xtask publish (upload)", xtask_times))
print(row("cargo xtask publish (re-run, skipped)", rerun_times))
added = statistics.median(xtask_times) - statistics.median(twine_times)
paired = statistics.median(x - t for x, t in zip(xtask_times, twine_times))
print(f"\nadded by the xtask: {added * 1000:.0f} ms (median of medians), "
      f"{paired * 1000:.0f} ms (median of paired rounds); target <= 150 ms")
