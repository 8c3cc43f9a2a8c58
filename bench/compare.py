#!/usr/bin/env python3
"""Two builds of the xtask side by side, interleaved in one run, so that a
loaded machine weighs on both alike: `env status`, the overhead `publish`
adds over `twine upload` (and its re-run, everything skipped), and the warm
`release --rehearse` of this repository. (hf-prefetch has its own:
`bench/hf-prefetch.py --compare OLD`.)

    bench/compare.py OLD NEW [--rounds N] [--rehearsals N]

OLD and NEW are xtask binaries (e.g. an older build copied aside, and
target/debug/xtask). The managed Python tools must be provisioned
(`cargo xtask setup`); the rehearsal needs what it always needs.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import publish_index  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The managed tools this checkout's tests provisioned.
os.environ.setdefault("RELEASE_KIT_CACHE_DIR", os.path.join(REPO, "target", "release-kit"))
TOOLS_PYTHON = os.path.join(os.environ["RELEASE_KIT_CACHE_DIR"], "pypi-tools", "bin", "python")
try:
    import passlib  # noqa: F401  (the index's password file)
except ImportError:
    # Run by the managed venv's Python, which has pypiserver and passlib.
    os.execv(TOOLS_PYTHON, [TOOLS_PYTHON, *sys.argv])


def timed(cmd, cwd=None, env=None, ok=(0,)):
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if r.returncode not in ok:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}")
    return dt


def interleaved(rounds, cmds):
    """{name: [seconds]} running each command once a round, the order
    alternating between rounds."""
    out = {name: [] for name in cmds}
    names = list(cmds)
    for i in range(rounds):
        for name in names if i % 2 == 0 else reversed(names):
            out[name].append(cmds[name]())
    return out


def env_status(old, new, rounds):
    tmp = tempfile.mkdtemp(prefix="cmp-status-")
    try:
        subprocess.run([new, "env", "init", "--root", tmp, "-q"], check=True, capture_output=True)
        with open(os.path.join(tmp, ".env"), "a") as f:
            f.write("TWINE_PASSWORD=pypi-AgEIcHlwaS5vcmcabcdefghijklmnop\nHF_TOKEN=hf_abcdefghijklmnop\n")
        return interleaved(rounds, {
            f"env status ({label})": (lambda b=b: timed([b, "env", "status"], cwd=tmp))
            for label, b in (("old", old), ("new", new))
        })
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def publish(old, new, rounds):
    work = tempfile.mkdtemp(prefix="cmp-publish-")
    root = os.path.join(work, "project")
    shutil.copytree(os.path.join(REPO, "examples", "mult-agentes"), os.path.join(root, "py"),
                    ignore=shutil.ignore_patterns("vscode-extension", "dist", "__pycache__"))
    with open(os.path.join(root, "release-kit.toml"), "w") as f:
        f.write('[python]\npath = "py"\n[vscode]\nenabled = false\n')
    subprocess.run([new, "--root", root, "--no-env-file", "-q", "build"], check=True, capture_output=True)
    dist = os.path.join(root, "dist")
    files = sorted(os.path.join(dist, f) for f in os.listdir(dist))
    python = TOOLS_PYTHON
    server, url, packages, env = publish_index.start(python, os.path.join(work, "index"))

    def empty():
        for f in os.listdir(packages):
            os.remove(os.path.join(packages, f))

    def upload(cmd):
        empty()
        return timed(cmd, env=env)

    twine = [python, "-m", "twine", "upload", "--non-interactive", "--disable-progress-bar",
             "--repository-url", url, *files]
    cmds = {"twine upload (direct)": lambda: upload(twine)}
    for label, b in (("old", old), ("new", new)):
        cmd = [b, "--root", root, "--no-env-file", "-q", "publish", "--repository-url", url]
        cmds[f"publish ({label})"] = lambda cmd=cmd: upload(cmd)
        cmds[f"publish re-run, skipped ({label})"] = lambda cmd=cmd: timed(cmd, env=env)
    try:
        # An upload right before each re-run: the re-run finds both files.
        runs = {name: [] for name in cmds}
        for i in range(rounds):
            order = ["twine upload (direct)", "publish (old)", "publish re-run, skipped (old)",
                     "publish (new)", "publish re-run, skipped (new)"]
            if i % 2:
                order = order[:1] + order[3:] + order[1:3]
            for name in order:
                runs[name].append(cmds[name]())
        return runs
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


def rehearsal(old, new, rounds):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWINE_", "GITHUB_"))}
    return interleaved(rounds, {
        f"release --rehearse, warm ({label})": (
            lambda b=b: timed([b, "--no-env-file", "-q", "release", "--rehearse"], cwd=REPO, env=env))
        for label, b in (("old", old), ("new", new))
    })


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=21, help="rounds of env status and publish")
    ap.add_argument("--rehearsals", type=int, default=3, help="rounds of the warm rehearsal (0: none)")
    args = ap.parse_args()
    old, new = os.path.abspath(args.old), os.path.abspath(args.new)
    results = {}
    results.update(env_status(old, new, args.rounds))
    results.update(publish(old, new, max(3, args.rounds // 3)))
    if args.rehearsals:
        # One untimed run first: the rehearsal's own caches (maturin's target) warm.
        timed([new, "--no-env-file", "-q", "release", "--rehearse"], cwd=REPO)
        results.update(rehearsal(old, new, args.rehearsals))
    print(f"\n| {'command':<40} | {'runs':>4} | {'median ms':>9} | {'min ms':>8} | {'max ms':>8} |")
    print(f"|{'-' * 42}|{'-' * 6}|{'-' * 11}|{'-' * 10}|{'-' * 10}|")
    for name, xs in results.items():
        ms = [x * 1000 for x in xs]
        print(f"| {name:<40} | {len(ms):>4} | {statistics.median(ms):9.0f} | {min(ms):8.0f} | {max(ms):8.0f} |")
    twine = statistics.median(results["twine upload (direct)"])
    for label in ("old", "new"):
        added = statistics.median(results[f"publish ({label})"]) - twine
        print(f"publish overhead over twine ({label}): {added * 1000:.0f} ms")


if __name__ == "__main__":
    main()
