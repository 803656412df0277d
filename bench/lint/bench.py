#!/usr/bin/env python3
"""`confiture lint` timings: the static DDL tree, a live database (against `confiture
introspect` on the same database), and migration files against squawk. Stdlib only. Called by
bench/lint/run.sh, which builds the binary, installs squawk, starts the server and generates
the inputs; see the header of run.sh and bench/lint/README.md.

    bench.py --confiture BIN [--tree DIR] [--live-tree DIR --url URL] [--migrations DIR
             --statements N --squawk BIN] [--rounds 10] [--warmup 1]
             [--target-static-ms 300] [--target-live-ms 300] [--target-ratio 3]

Every round runs each measurement once, in an order rotating from round to round, so that
machine load hits them alike; medians are reported. Wall time is fork/exec to exit of one
command, its stdout written to a file. Exit status: 0 every run succeeded and every target is
met; 1 a command failed (printed); 2 everything ran but a target was missed.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shlex
import statistics
import subprocess
import sys
import time


def fail(what: str, cmd: list[str], p: subprocess.CompletedProcess) -> None:
    print(f"\nFAILED: {what}\n  command: {shlex.join(cmd)}\n  exit status: {p.returncode}", file=sys.stderr)
    for label, data in (("stderr", p.stderr), ("stdout", p.stdout)):
        text = (data or b"").decode("utf-8", "replace").strip()
        if text:
            print(f"  --- {label} ---\n" + "\n".join(text.split("\n")[-40:]), file=sys.stderr)
    sys.exit(1)


def timed(cmd: list[str], what: str, out_path: str, ok=(0,)) -> float:
    """Wall time (ms) of one run of `cmd`, stdout to `out_path`."""
    with open(out_path, "wb") as out:
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE)
        dt = (time.perf_counter() - t0) * 1000.0
    if p.returncode not in ok:
        p.stdout = open(out_path, "rb").read()[-4000:]
        fail(what, cmd, p)
    return dt


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--confiture", required=True)
    ap.add_argument("--tree")
    ap.add_argument("--live-tree")
    ap.add_argument("--url")
    ap.add_argument("--migrations")
    ap.add_argument("--statements", type=int)
    ap.add_argument("--squawk")
    ap.add_argument("--work", default="/tmp")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--target-static-ms", type=float, default=300)
    ap.add_argument("--target-live-ms", type=float, default=300)
    ap.add_argument("--target-ratio", type=float, default=3)
    a = ap.parse_args()
    C = a.confiture
    lint_ok = (0, 7)  # 7: findings at or above fail_on_severity, which is fine here

    # name -> (command, accepted exit codes, report has duration_ms)
    m: dict[str, tuple[list[str], tuple, bool]] = {}
    if a.tree:
        m["static"] = ([C, "-C", a.tree, "lint", "--format", "json"], lint_ok, True)
    if a.live_tree:
        m["live"] = ([C, "-C", a.live_tree, "lint", "--live", "--database-url", a.url, "--format", "json"], lint_ok, True)
        m["introspect"] = ([C, "-C", a.live_tree, "introspect", "--database-url", a.url, "--format", "json"], (0,), False)
    if a.migrations:
        files = sorted(glob.glob(os.path.join(a.migrations, "db", "migrations", "*.up.sql")))
        m["migrations"] = ([C, "-C", a.migrations, "lint", "--migrations", "--format", "json"], lint_ok, True)
        # squawk exits 1 when it reports violations.
        m["squawk"] = ([a.squawk, "--reporter", "json", *[os.path.relpath(f, a.migrations) for f in files]], (0, 1), False)

    walls = {n: [] for n in m}
    inproc = {n: [] for n in m if m[n][2]}
    found = {}
    names = list(m)
    for r in range(a.warmup + a.rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for n in order:
            cmd, ok, has_duration = m[n]
            out = os.path.join(a.work, f"out_{n}.json")
            cwd = a.migrations if n == "squawk" else None
            if cwd:
                t0 = time.perf_counter()
                with open(out, "wb") as fh:
                    p = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.PIPE)
                dt = (time.perf_counter() - t0) * 1000.0
                if p.returncode not in ok:
                    fail(n, cmd, p)
            else:
                dt = timed(cmd, n, out, ok)
            if r < a.warmup:
                continue
            walls[n].append(dt)
            doc = json.load(open(out))
            if has_duration:
                inproc[n].append(doc["duration_ms"])
                found[n] = (len(doc["findings"]), doc["counts"], doc["inputs"], doc["rules_run"])
            elif n == "squawk":
                found[n] = (len(doc), None, None, None)
            elif n == "introspect":
                found[n] = (len(doc.get("schema", doc).get("tables", {})) if isinstance(doc, dict) else None, None, None, None)

    print(f"\n== results: median of {a.rounds} rounds (after {a.warmup} warm-up), wall = fork/exec to exit")
    missed = []

    def row(label, value, target=None, unit="ms"):
        t = ""
        if target is not None:
            ok = value <= target if unit == "ms" else value >= target
            t = f"   target {'<=' if unit == 'ms' else '>='} {target:g}{unit}: {'pass' if ok else 'MISSED'}"
            if not ok:
                missed.append(label)
        print(f"   {label:<58} {value:>9.1f} {unit}{t}")

    if "static" in m:
        n, counts, inputs, rules = found["static"]
        print(f"-- static: {', '.join(inputs)}; {rules} rules; {n} findings {counts}")
        row("confiture lint (DDL tree, wall)", med(walls["static"]), a.target_static_ms)
        row("  in-process (report duration_ms)", med(inproc["static"]))
        print(f"   (wall min {min(walls['static']):.1f} ms, max {max(walls['static']):.1f} ms)")
    if "live" in m:
        n, counts, inputs, rules = found["live"]
        lw, iw = med(walls["live"]), med(walls["introspect"])
        print(f"-- live: {', '.join(inputs)}; {rules} rules; {n} findings {counts}")
        row("confiture lint --live (wall)", lw)
        row("  in-process (report duration_ms: connect + catalog + rules)", med(inproc["live"]))
        row("confiture introspect, same database (wall)", iw)
        row("lint --live - introspect (after the catalog is read)", lw - iw, a.target_live_ms)
    if "migrations" in m:
        n, counts, inputs, rules = found["migrations"]
        cw, sw = med(walls["migrations"]), med(walls["squawk"])
        cr, sr = a.statements / (cw / 1000), a.statements / (sw / 1000)
        print(f"-- migrations: {', '.join(inputs)}, {a.statements} statements; confiture {rules} rules, {n} findings {counts}; squawk {found['squawk'][0]} findings")
        row("confiture lint --migrations (wall)", cw)
        row("  in-process (report duration_ms)", med(inproc["migrations"]))
        row("squawk --reporter json FILES (wall)", sw)
        print(f"   {'confiture statements/s':<58} {cr:>9.0f}")
        print(f"   {'squawk statements/s':<58} {sr:>9.0f}")
        row("ratio confiture / squawk (statements per second)", cr / sr, a.target_ratio, unit="x")
    results = {
        "walls_ms": walls,
        "in_process_ms": inproc,
        "statements": a.statements,
    }
    with open(os.path.join(a.work, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    if missed:
        print(f"\nMISSED: {', '.join(missed)}")
        sys.exit(2)


if __name__ == "__main__":
    main()
