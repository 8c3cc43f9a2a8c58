"""`cargo xtask publish` of an sdist and six platform wheels against
`twine upload` of the same files, on the same local pypiserver, side by
side in one run.

Run through bench/publish-many.sh. The files are made here (valid metadata,
one wheel per platform of the build matrix) in a throw-away project. Each
round empties the index before every upload and runs:
  - `twine upload` of the seven files, exactly as publish calls it;
  - `twine check --strict` then `twine upload` (what publish does with a
    fresh twine-check record);
  - `cargo xtask publish` with the twine-check record cleared (first
    publish of these bytes: it runs `twine check --strict`);
  - `cargo xtask publish` again on an empty index (record warm: the check
    is skipped, as on every publish of bytes `build` or a previous publish
    already checked);
  - the re-run on the full index (everything skipped, no twine run).
Prints a table; target: publish adds <= 150 ms to twine upload.
"""

import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile

import publish_index

ROUNDS = int(os.environ.get("ROUNDS", "7"))
xtask, target, python = sys.argv[1], sys.argv[2], sys.executable
record = os.path.join(target, "release-kit", "pypi-tools", "twine-checked")
PLATFORMS = [
    "manylinux_2_17_x86_64.manylinux2014_x86_64",
    "manylinux_2_17_aarch64.manylinux2014_aarch64",
    "musllinux_1_2_x86_64",
    "macosx_10_12_x86_64",
    "macosx_11_0_arm64",
    "win_amd64",
]

work = tempfile.mkdtemp(prefix="bench-publish-many-")
root = os.path.join(work, "project")
dist = os.path.join(root, "dist")
os.makedirs(os.path.join(root, "py"))
os.makedirs(dist)
with open(os.path.join(root, "release-kit.toml"), "w") as f:
    f.write('[python]\npath = "py"\n[vscode]\nenabled = false\n')
with open(os.path.join(root, "py", "pyproject.toml"), "w") as f:
    f.write('[project]\nname = "bench-native"\nversion = "1.0.0"\n')
meta = ("Metadata-Version: 2.1\nName: bench-native\nVersion: 1.0.0\nSummary: bench\n"
        "Description-Content-Type: text/markdown\n\n# bench\n\n" + "text " * 2000 + "\n")
with tarfile.open(os.path.join(dist, "bench_native-1.0.0.tar.gz"), "w:gz") as t:
    for member, text in [("PKG-INFO", meta), ("pyproject.toml", "")]:
        data = text.encode()
        ti = tarfile.TarInfo(f"bench_native-1.0.0/{member}")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
for plat in PLATFORMS:
    with zipfile.ZipFile(os.path.join(dist, f"bench_native-1.0.0-cp39-abi3-{plat}.whl"), "w") as z:
        z.writestr("bench_native/__init__.py", "")
        z.writestr("bench_native/_native.so", os.urandom(64 * 1024))
        z.writestr("bench_native-1.0.0.dist-info/METADATA", meta)
        z.writestr("bench_native-1.0.0.dist-info/WHEEL",
                   "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: false\n"
                   + "".join(f"Tag: cp39-abi3-{p}\n" for p in plat.split(".")))
        z.writestr("bench_native-1.0.0.dist-info/RECORD", "")
files = sorted(os.path.join(dist, f) for f in os.listdir(dist))
files.sort(key=lambda f: not f.endswith(".tar.gz"))  # sdist first, as publish sends

server, url, packages, env = publish_index.start(python, work)
env.update(CARGO_TARGET_DIR=target)
twine = [python, "-m", "twine"]
twine_cmd = twine + ["upload", "--non-interactive", "--disable-progress-bar",
                     "--repository-url", url, *files]
check_cmd = twine + ["--no-color", "check", "--strict", *files]
xtask_cmd = [xtask, "--root", root, "--no-env-file", "-q", "publish", "--repository-url", url]


def empty_index():
    for f in os.listdir(packages):
        os.remove(os.path.join(packages, f))


def run(cmd):
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{cmd[0]} failed:\n{r.stdout}\n{r.stderr}")


def timed(*cmds):
    t = time.perf_counter()
    for cmd in cmds:
        run(cmd)
    dt = time.perf_counter() - t
    assert len(os.listdir(packages)) == len(files), "every file must be on the index"
    return dt


times = {k: [] for k in ["twine", "check+twine", "xtask-first", "xtask", "rerun"]}
try:
    for _ in range(ROUNDS):
        empty_index()
        times["twine"].append(timed(twine_cmd))
        empty_index()
        times["check+twine"].append(timed(check_cmd, twine_cmd))
        empty_index()
        if os.path.exists(record):
            os.remove(record)
        times["xtask-first"].append(timed(xtask_cmd))
        empty_index()
        times["xtask"].append(timed(xtask_cmd))
        times["rerun"].append(timed(xtask_cmd))  # everything skipped
finally:
    server.terminate()
    server.wait()
    shutil.rmtree(work, ignore_errors=True)


def row(name, xs):
    ms = [x * 1000 for x in xs]
    return f"| {name:<52} | {statistics.median(ms):8.0f} | {min(ms):8.0f} | {max(ms):8.0f} |"


print(f"\npublish of an sdist + {len(PLATFORMS)} wheels: {ROUNDS} rounds, pypiserver on "
      f"127.0.0.1, times in ms\n")
print(f"| {'command':<52} | {'median':>8} | {'min':>8} | {'max':>8} |")
print(f"|{'-' * 54}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
print(row("twine upload (direct)", times["twine"]))
print(row("twine check --strict + twine upload (direct)", times["check+twine"]))
print(row("cargo xtask publish (first publish of these bytes)", times["xtask-first"]))
print(row("cargo xtask publish (bytes already twine-checked)", times["xtask"]))
print(row("cargo xtask publish (re-run, all skipped)", times["rerun"]))
med = {k: statistics.median(v) for k, v in times.items()}
paired = statistics.median(x - t for x, t in zip(times["xtask"], times["twine"]))
print(f"\nadded by the xtask to twine upload: {(med['xtask'] - med['twine']) * 1000:.0f} ms "
      f"(median of medians), {paired * 1000:.0f} ms (paired rounds); target <= 150 ms")
print(f"first publish vs twine check + upload: "
      f"{(med['xtask-first'] - med['check+twine']) * 1000:.0f} ms")
