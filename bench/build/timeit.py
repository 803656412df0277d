#!/usr/bin/env python3
"""Time a command: N runs, median wall time, failures loud. Stdlib only.

    timeit.py --name NAME [--runs 10] [--warmup 1] [--cwd DIR]
              [--prepare 'SHELL CMD'] [--json OUT.json] -- CMD [ARG...]

* Every run (warm-ups included) must exit 0. On the first failure the command,
  its exit status and the tail of its stderr/stdout are printed to stderr and
  timeit.py exits 1: a measurement is never silently dropped.
* --prepare runs (through bash, untimed) before every timed run and warm-up,
  e.g. to drop a database; its failure is fatal too.
* Wall time is measured with time.perf_counter() around the child process
  (fork/exec, run, wait). The child's stdout and stderr are collected through
  pipes (so that they can be shown on failure) and otherwise discarded.
* Prints one line "NAME: median X ms (min Y, max Z, N runs)" to stdout and,
  with --json, writes {"name", "median_ms", "mean_ms", "min_ms", "max_ms",
  "runs", "times_ms", "command"}.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import time


def tail(data: bytes, lines: int = 40) -> str:
    text = data.decode("utf-8", "replace").rstrip("\n")
    parts = text.split("\n")
    if len(parts) > lines:
        parts = [f"... ({len(parts) - lines} earlier lines omitted)"] + parts[-lines:]
    return "\n".join(parts)


def fail(name: str, what: str, cmd, rc: int, out: bytes, err: bytes) -> None:
    shown = cmd if isinstance(cmd, str) else shlex.join(cmd)
    print(f"\nFAILED: {name}: {what} exited with status {rc}", file=sys.stderr)
    print(f"  command: {shown}", file=sys.stderr)
    if err.strip():
        print("  --- stderr ---", file=sys.stderr)
        print(tail(err), file=sys.stderr)
    if out.strip():
        print("  --- stdout ---", file=sys.stderr)
        print(tail(out), file=sys.stderr)
    if not err.strip() and not out.strip():
        print("  (no output)", file=sys.stderr)
    sys.exit(1)


def prepare(name: str, script: str | None, cwd: str | None) -> None:
    if not script:
        return
    p = subprocess.run(["bash", "-c", script], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        fail(name, "--prepare", script, p.returncode, p.stdout, p.stderr)


def run_once(name: str, cmd: list[str], cwd: str | None) -> float:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        # rerun is not attempted: what failed is shown as it was
        fail(name, "the measured command", cmd, p.returncode, p.stdout, p.stderr)
    return dt * 1000.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(usage=__doc__.split("\n\n")[1].strip())
    ap.add_argument("--name", required=True)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--cwd")
    ap.add_argument("--prepare")
    ap.add_argument("--json")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        ap.error("no command given (put it after --)")
    if a.runs < 1:
        ap.error("--runs must be at least 1")

    for _ in range(a.warmup):
        prepare(a.name, a.prepare, a.cwd)
        run_once(a.name, cmd, a.cwd)
    times = []
    for _ in range(a.runs):
        prepare(a.name, a.prepare, a.cwd)
        times.append(run_once(a.name, cmd, a.cwd))

    res = {
        "name": a.name,
        "median_ms": statistics.median(times),
        "mean_ms": statistics.fmean(times),
        "min_ms": min(times),
        "max_ms": max(times),
        "runs": len(times),
        "times_ms": [round(t, 3) for t in times],
        "command": shlex.join(cmd),
        "timer": "timeit.py",
    }
    print(f"{a.name}: median {res['median_ms']:.1f} ms (min {res['min_ms']:.1f}, max {res['max_ms']:.1f}, {len(times)} runs)")
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
