#!/usr/bin/env python3
"""Fresh clone -> `cargo xtask release --rehearse`, split into phases, and
the warm rehearsal after it: before and after, side by side in one run.

    bench/rehearse.py [BEFORE [AFTER]]     default: main and HEAD

Each side is a fresh clone of the ref (`git clone --local`) with its own
empty CARGO_TARGET_DIR and RELEASE_KIT_CACHE_DIR (so every tool is
provisioned from scratch; npm's and pip's own download caches are the
machine's). Phases:

  cold cargo build     `cargo build -p xtask --timings` in the clone (the
                       report is kept next to the temporary folder)
  provision python     `cargo xtask setup`, up to "python tools: ready"
  provision node       `cargo xtask setup`, the rest (the Node tools; near 0
                       where setup installs them while the Python tools install)
  build step           the rehearsal's `==> build` (maturin's cold compile)
  vsce-package         the rehearsal's `==> vsce-package`
  rest                 the rehearsal's other steps
  fresh clone total    the sum of the above
  warm rehearsal       a second `release --rehearse` (median of 3)

Needs git, cargo, python3 (with venv), node and npm, as the rehearsal does.
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed_lines(cmd, cwd, env):
    """Runs cmd; returns [(seconds since start, line)] and the total."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    lines = [(time.monotonic() - t0, line.rstrip("\n")) for line in p.stdout]
    total = time.monotonic() - t0
    if p.wait() != 0:
        tail = "\n".join(l for _, l in lines[-20:])
        sys.exit(f"{' '.join(cmd)} failed in {cwd}:\n{tail}")
    return lines, total


def first(lines, pattern):
    rx = re.compile(pattern)
    return next((t for t, l in lines if rx.search(l)), None)


def steps(lines, total):
    """Seconds per `==> step` of a rehearsal's output."""
    marks = [(t, l[4:].split()[0]) for t, l in lines if l.startswith("==> ")]
    out = {}
    for i, (t, name) in enumerate(marks):
        end = marks[i + 1][0] if i + 1 < len(marks) else total
        out[name] = out.get(name, 0.0) + end - t
    return out


def side(ref, work):
    clone = os.path.join(work, "clone")
    subprocess.run(["git", "clone", "-q", "--local", "--no-hardlinks", REPO, clone], check=True)
    subprocess.run(["git", "checkout", "-q", ref], cwd=clone, check=True)
    env = dict(os.environ)
    env["CARGO_TARGET_DIR"] = os.path.join(work, "target")
    env["RELEASE_KIT_CACHE_DIR"] = os.path.join(work, "cache")
    env.pop("RELEASE_KIT_USE_PATH_TOOLS", None)
    r = {}
    _, r["cold cargo build"] = timed_lines(
        ["cargo", "build", "-q", "-p", "xtask", "--timings"], clone, env)
    timings = os.path.join(env["CARGO_TARGET_DIR"], "cargo-timings", "cargo-timing.html")
    if os.path.exists(timings):
        shutil.copy(timings, os.path.join(os.path.dirname(work), f"{os.path.basename(work)}-timings.html"))
    xtask = os.path.join(env["CARGO_TARGET_DIR"], "debug", "xtask")
    lines, total = timed_lines([xtask, "setup"], clone, env)
    py = first(lines, r"^python tools: ready") or total
    r["provision python"] = py
    r["provision node"] = total - py
    lines, total = timed_lines([xtask, "release", "--rehearse"], clone, env)
    s = steps(lines, total)
    r["build step"] = s.get("build", 0.0)
    r["vsce-package"] = s.get("vsce-package", 0.0)
    r["rest"] = total - r["build step"] - r["vsce-package"]
    r["fresh clone total"] = sum(r.values())
    warm = [timed_lines([xtask, "release", "--rehearse"], clone, env)[1] for _ in range(3)]
    r["warm rehearsal"] = statistics.median(warm)
    return r


def main():
    before = sys.argv[1] if len(sys.argv) > 1 else "main"
    after = sys.argv[2] if len(sys.argv) > 2 else "HEAD"
    after = subprocess.run(["git", "rev-parse", after], cwd=REPO, check=True,
                           capture_output=True, text=True).stdout.strip()
    results = {}
    for label, ref in (("before", before), ("after", after)):
        work = tempfile.mkdtemp(prefix=f"rk-bench-{label}-")
        try:
            print(f"{label}: {ref} in {work} ...", file=sys.stderr, flush=True)
            results[label] = side(ref, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{'phase':<20} {'before (' + before[:10] + ')':>22} {'after (' + after[:10] + ')':>22}")
    for phase in results["before"]:
        b, a = results["before"][phase], results["after"][phase]
        print(f"{phase:<20} {b:>20.1f} s {a:>20.1f} s")


if __name__ == "__main__":
    main()
