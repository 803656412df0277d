#!/usr/bin/env python3
"""`confiture introspect` and `confiture diff` against migra, on two generated databases of
1,000 tables. Stdlib only. Called by bench/schema/run.sh, which builds the binary, installs
migra, starts the server and loads the databases; see the header of run.sh and
bench/schema/README.md for what is measured and how.

    bench.py --confiture BIN --migra BIN --project DIR --pg-bin DIR --port PORT --pg-log FILE
             --work DIR [--db-a bench_a] [--db-b bench_b] [--rounds 10] [--warmup 1]
             [--migra-rounds 10] [--only introspect,diff,migra,check]
             [--target-introspect-ms 500] [--target-diff-ms 1000]

Exit status: 0 every run succeeded and every target is met (timings, and confiture's SQL takes
a copy of A to B); 1 a command failed (printed); 2 everything ran but a target was missed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import time

# ------------------------------------------------------------------ helpers


def fail(what: str, cmd, p: subprocess.CompletedProcess | None = None) -> None:
    shown = cmd if isinstance(cmd, str) else shlex.join(cmd)
    print(f"\nFAILED: {what}\n  command: {shown}", file=sys.stderr)
    if p is not None:
        print(f"  exit status: {p.returncode}", file=sys.stderr)
        for label, data in (("stderr", p.stderr), ("stdout", p.stdout)):
            text = (data or b"").decode("utf-8", "replace").strip()
            if text:
                lines = text.split("\n")
                if len(lines) > 60:
                    lines = [f"... ({len(lines) - 60} earlier lines omitted)"] + lines[-60:]
                print(f"  --- {label} ---\n" + "\n".join(lines), file=sys.stderr)
    sys.exit(1)


def run(cmd: list[str], what: str, ok=(0,)) -> subprocess.CompletedProcess:
    """Run an untimed command; its exit status must be in `ok`."""
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode not in ok:
        fail(what, cmd, p)
    return p


def timed(cmd: list[str], what: str, stdout_path: str | None, ok=(0,)) -> float:
    """Wall time (ms) of one run of `cmd`, fork/exec to exit; stdout to a file or /dev/null."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    try:
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE)
        dt = (time.perf_counter() - t0) * 1000.0
    finally:
        if stdout_path:
            out.close()
    if p.returncode not in ok:
        if stdout_path:
            p.stdout = open(stdout_path, "rb").read()[-4000:]
        fail(f"{what} (exit status {p.returncode})", cmd, p)
    return dt


def load() -> str:
    with open("/proc/loadavg") as f:
        return "load average " + " ".join(f.read().split()[:3])


def med(xs):
    return statistics.median(xs) if xs else float("nan")


class Pg:
    def __init__(self, pg_bin: str, port: int):
        self.bin = pg_bin
        self.conn = ["-h", "127.0.0.1", "-p", str(port), "-U", "postgres"]
        self.port = port

    def url(self, db: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def sql(self, db: str, *statements: str) -> str:
        cmd = [f"{self.bin}/psql", *self.conn, "-d", db, "-X", "-At", "-v", "ON_ERROR_STOP=1"]
        for s in statements:
            cmd += ["-c", s]
        return run(cmd, f"psql on {db}").stdout.decode().strip()

    def clone(self, db: str, template: str) -> None:
        self.sql("postgres", f"DROP DATABASE IF EXISTS {db}", f"CREATE DATABASE {db} TEMPLATE {template}")

    def drop(self, db: str) -> None:
        self.sql("postgres", f"DROP DATABASE IF EXISTS {db}")

    def apply(self, db: str, path: str, stop: bool) -> subprocess.CompletedProcess:
        cmd = [f"{self.bin}/psql", *self.conn, "-d", db, "-X", "-q", "-v", f"ON_ERROR_STOP={1 if stop else 0}",
               "-f", path]
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def dump(self, db: str, path: str) -> list[str]:
        run([f"{self.bin}/pg_dump", *self.conn, "-d", db, "--schema-only", "--no-owner", "--no-privileges",
             "-f", path], f"pg_dump {db}")
        with open(path, encoding="utf-8") as f:
            # without comments, blank lines and the random key of \restrict (pg_dump >= 15.14)
            return [ln.rstrip("\n") for ln in f
                    if ln.strip() and not ln.startswith(("--", "\\restrict ", "\\unrestrict "))]


COUNTS_SQL = """
SELECT format('%s tables, %s columns, %s indexes (%s of them for PK/unique), %s foreign keys, %s checks, '
              '%s functions, %s triggers, %s views, %s comments',
  (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'app' AND c.relkind = 'r'),
  (SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'app' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped),
  (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'app'),
  (SELECT count(*) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname = 'app' AND k.contype IN ('p', 'u')),
  (SELECT count(*) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname = 'app' AND k.contype = 'f'),
  (SELECT count(*) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname = 'app' AND k.contype = 'c'),
  (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'app'),
  (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'app' AND NOT t.tgisinternal),
  (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'app' AND c.relkind = 'v'),
  (SELECT count(*) FROM pg_description))
"""

# server-side profile of one introspect run: a label per catalog query
QUERY_LABELS = [
    ("nspowner", "schemas"), ("extname", "extensions"), ("contypid AS type_oid", "domain checks"),
    ("typtype", "types"), ("seqtypid", "sequences"), ("relpersistence", "relations"),
    ("attrelid AS rel", "columns"), ("conrelid AS rel", "constraints"), ("indrelid AS rel", "indexes"),
    ("tgrelid AS rel", "triggers"), ("polrelid AS rel", "policies"), ("pg_rewrite", "view dependencies"),
    ("prokind", "functions"), ("grantee", "grants"), ("search_path", "session setup"),
]


def label_of(stmt: str) -> str:
    for key, label in QUERY_LABELS:
        if key in stmt:
            return label
    return "other: " + stmt[:40]


def profile_introspect(a, pg: Pg, cmd: list[str]) -> dict:
    """One untimed introspect with log_min_duration_statement = 0: server time per query."""
    pg.sql("postgres", f"ALTER DATABASE {a.db_a} SET log_min_duration_statement = 0")
    start = os.path.getsize(a.pg_log)
    try:
        t0 = time.perf_counter()
        run(cmd, "confiture introspect (profiled)")
        wall = (time.perf_counter() - t0) * 1000.0
    finally:
        pg.sql("postgres", f"ALTER DATABASE {a.db_a} RESET log_min_duration_statement")
    with open(a.pg_log, encoding="utf-8", errors="replace") as f:
        f.seek(start)
        text = f.read()
    per: dict[str, float] = {}
    for m in re.finditer(r"duration: ([0-9.]+) ms  (?:statement|parse|bind|execute) [^:]*: (.*)", text):
        lab = label_of(m.group(2))
        per[lab] = per.get(lab, 0.0) + float(m.group(1))
    return {"wall_ms": wall, "server_ms": sum(per.values()), "per_query_ms": per}


# ------------------------------------------------------------------ correctness

def block_at(lines: list[str], line: int) -> list[str]:
    """The blank-line separated block around line `line` (1-based) of a script."""
    lo = line - 1
    while lo > 0 and lines[lo - 1].strip():
        lo -= 1
    hi = line - 1
    while hi + 1 < len(lines) and lines[hi + 1].strip():
        hi += 1
    return lines[lo:hi + 1]


def failing_statement(sql_path: str, stderr: str) -> str:
    """The statement around the line psql names in its first ERROR (a blank-line block)."""
    m = re.search(r"psql:[^:]*:(\d+): ERROR:", stderr)
    if not m:
        return "(no line number in psql's output)"
    line = int(m.group(1))
    with open(sql_path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    block = block_at(lines, line)
    if len(block) > 12:
        block = block[:12] + [f"... ({len(block) - 12} more lines)"]
    return f"line {line}:\n" + "\n".join("      " + b for b in block)


def error_lines(stderr: str, sql_path: str) -> list[str]:
    """Every ERROR psql printed: line, message, DETAIL and the statement (first 160 chars)."""
    with open(sql_path, encoding="utf-8") as f:
        script = f.read().split("\n")
    out = []
    lines = stderr.split("\n")
    for i, ln in enumerate(lines):
        m = re.match(r"psql:[^:]*:(\d+): ERROR:\s+(.*)", ln)
        if not m:
            continue
        detail = lines[i + 1].strip() if i + 1 < len(lines) and lines[i + 1].startswith("DETAIL:") else ""
        stmt = " ".join(x.strip() for x in block_at(script, int(m.group(1))) if not x.startswith("--"))
        stmt = stmt if len(stmt) <= 160 else stmt[:157] + "..."
        out.append(f"line {m.group(1)}: {m.group(2)}" + (f" [{detail}]" if detail else "") + f"\n      {stmt}")
    return out


def confiture_diff_json(a, pg: Pg, db_from: str, db_to: str) -> dict:
    p = run([a.confiture, "-C", a.project, "diff", "--from", pg.url(db_from), "--to", pg.url(db_to),
             "--format", "json"], f"confiture diff {db_from} -> {db_to} --format json")
    return json.loads(p.stdout)


def change_line(c: dict) -> str:
    sym = {"add": "+", "drop": "-", "alter": "~"}.get(c["action"], "?")
    detail = f" ({c['detail']})" if c.get("detail") else ""
    return f"{sym} {c['object']} {c['name']}{detail}"


def dump_diff(x: list[str], y: list[str]) -> list[str]:
    import difflib
    return [ln for ln in difflib.unified_diff(x, y, "C", "B", n=0, lineterm="")
            if not ln.startswith(("---", "+++", "@@"))]


def check(a, pg: Pg, tool: str, sql_path: str, dump_b: list[str], statements: int | None) -> dict:
    """Apply the tool's SQL to a copy of A; is the result B? (untimed)"""
    db = f"bench_c_{tool}"
    r: dict = {"tool": tool, "sql": sql_path}
    with open(sql_path, encoding="utf-8") as f:
        text = f.read()
    r["bytes"] = len(text)
    if statements is None:  # blank-line separated blocks with something besides comments (migra's layout)
        statements = sum(1 for blk in re.split(r"\n\s*\n", text)
                         if any(ln.strip() and not ln.strip().startswith("--") for ln in blk.split("\n")))
    r["statements"] = statements
    pg.clone(db, a.db_a)
    t0 = time.perf_counter()
    p = pg.apply(db, sql_path, stop=True)
    r["apply_ms"] = (time.perf_counter() - t0) * 1000.0
    err = p.stderr.decode("utf-8", "replace")
    r["clean"] = p.returncode == 0
    if not r["clean"]:
        r["first_error"] = error_lines(err, sql_path)[:1] or [err.strip()[-400:]]
        r["failing_statement"] = failing_statement(sql_path, err)
        # Again on a fresh copy, past every error: which statements fail, and what remains.
        pg.clone(db, a.db_a)
        p = pg.apply(db, sql_path, stop=False)
        r["all_errors"] = error_lines(p.stderr.decode("utf-8", "replace"), sql_path)
    d = confiture_diff_json(a, pg, db, a.db_b)
    r["identical"] = bool(d["identical"])
    # views recreated (dropped and added) only because something under them changed go last
    recreated = {c["name"] for c in d["changes"] if "recreated" in (c.get("detail") or "")}
    r["remaining"] = [change_line(c) for c in sorted(d["changes"], key=lambda c: c["name"] in recreated)]
    r["remaining_recreated_views"] = len(recreated)
    r["dump_diff"] = dump_diff(pg.dump(db, os.path.join(a.work, f"dump_c_{tool}.sql")), dump_b)
    pg.drop(db)
    return r


# ------------------------------------------------------------------ main


def table(rows, hdr, right):
    w = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
    fmt = lambda r: "  ".join(f"{str(c):>{w[i]}}" if i in right else f"{str(c):<{w[i]}}" for i, c in enumerate(r)).rstrip()
    print(fmt(hdr))
    print("-" * (sum(w) + 2 * (len(w) - 1)))
    for r in rows:
        print(fmt(r))


def main() -> int:
    ap = argparse.ArgumentParser(usage=__doc__.split("\n\n")[1].strip())
    ap.add_argument("--confiture", required=True)
    ap.add_argument("--migra", required=True)
    ap.add_argument("--project", required=True)
    ap.add_argument("--pg-bin", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pg-log", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--db-a", default="bench_a")
    ap.add_argument("--db-b", default="bench_b")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--migra-rounds", type=int, default=10)
    ap.add_argument("--only", default="introspect,diff,migra,check")
    ap.add_argument("--target-introspect-ms", type=float, default=500)
    ap.add_argument("--target-diff-ms", type=float, default=1000)
    a = ap.parse_args()
    only = set(a.only.split(","))
    bad = only - {"introspect", "diff", "migra", "check"}
    if bad:
        ap.error(f"unknown in --only: {', '.join(sorted(bad))}")
    if a.rounds < 1:
        ap.error("--rounds must be at least 1")
    pg = Pg(a.pg_bin, a.port)
    ua, ub = pg.url(a.db_a), pg.url(a.db_b)
    out = os.path.join(a.work, "out")
    os.makedirs(out, exist_ok=True)

    for db in (a.db_a, a.db_b):
        print(f"   {db}: {pg.sql(db, COUNTS_SQL)}")

    cmds = {
        "introspect": [a.confiture, "introspect", "--database-url", ua, "--format", "json"],
        "diff": [a.confiture, "-C", a.project, "diff", "--from", ua, "--to", ub, "--sql"],
        "migra": [a.migra, "--unsafe", ua, ub],
    }
    stdout_of = {"introspect": None, "diff": os.path.join(out, "diff.sql"), "migra": os.path.join(out, "migra.sql")}
    ok_of = {"introspect": (0,), "diff": (0,), "migra": (0, 2)}  # migra: 2 = differences found
    meas = [m for m in ("introspect", "diff", "migra") if m in only]
    for m in meas:
        print(f"   {m:<10} {shlex.join(cmds[m])}" + (" > /dev/null" if not stdout_of[m] else f" > {stdout_of[m]}"))

    res: dict = {"times": {m: [] for m in meas}, "outputs_differ": {}}
    if meas:
        total = a.warmup + max(a.rounds, a.migra_rounds if "migra" in meas else 0)
        print(f"== timing ({load()}): {a.warmup} warm-up + {a.rounds} rounds"
              + (f" ({a.migra_rounds} for migra)" if "migra" in meas else "") + "; order rotates every round")
        first: dict[str, bytes] = {}
        for r in range(total):
            order = meas[r % len(meas):] + meas[:r % len(meas)]
            line = []
            for m in order:
                timed_round = r - a.warmup
                limit = a.migra_rounds if m == "migra" else a.rounds
                if timed_round >= limit:
                    continue
                ms = timed(cmds[m], m, stdout_of[m], ok_of[m])
                if stdout_of[m]:  # the same output every time?
                    data = open(stdout_of[m], "rb").read()
                    if m not in first:
                        first[m] = data
                        os.replace(stdout_of[m], stdout_of[m] + ".first")
                    elif data != first[m]:
                        res["outputs_differ"][m] = res["outputs_differ"].get(m, 0) + 1
                if timed_round >= 0:
                    res["times"][m].append(ms)
                line.append(f"{m} {ms:.0f} ms")
            tag = f"warm-up {r + 1}" if r < a.warmup else f"round {r + 1 - a.warmup}"
            print(f"   {tag}: " + ", ".join(line))
        for m in first:
            os.replace(stdout_of[m] + ".first", stdout_of[m])
        print(f"   ({load()})")

    if "introspect" in only:
        prof = profile_introspect(a, pg, cmds["introspect"])
        res["profile"] = prof
        p = run(cmds["introspect"], "confiture introspect")
        res["introspect_bytes"] = len(p.stdout)

    # ---------------------------------------------------------------- correctness
    checks = []
    if "check" in only:
        print("== correctness: each tool's SQL applied to a copy of A (CREATE DATABASE ... TEMPLATE), "
              "then `confiture diff --from C --to B` and pg_dump --schema-only of C vs B (untimed)")
        sql_confiture = stdout_of["diff"]
        if not os.path.exists(sql_confiture):
            with open(sql_confiture, "wb") as f:
                f.write(run(cmds["diff"], "confiture diff --sql").stdout)
        sql_migra = stdout_of["migra"]
        if not os.path.exists(sql_migra):
            with open(sql_migra, "wb") as f:
                f.write(run(cmds["migra"], "migra", ok=(0, 2)).stdout)
        dump_a = pg.dump(a.db_a, os.path.join(a.work, "dump_a.sql"))
        dump_b = pg.dump(a.db_b, os.path.join(a.work, "dump_b.sql"))
        d0 = confiture_diff_json(a, pg, a.db_a, a.db_b)
        res["changes_a_b"] = len(d0["changes"])
        res["summary_a_b"] = d0["summary"]
        res["dump_lines_a_b"] = len(dump_diff(dump_a, dump_b))
        print(f"   A -> B: confiture reports {len(d0['changes'])} changes {json.dumps(d0['summary'])}; "
              f"pg_dump -s of A and B differ in {res['dump_lines_a_b']} lines")
        n_confiture = sum(len(c["sql"]) for c in d0["changes"]) + 1  # + SET check_function_bodies
        for tool, path, n in (("confiture", sql_confiture, n_confiture), ("migra", sql_migra, None)):
            r = check(a, pg, tool, path, dump_b, n)
            checks.append(r)
            state = "applies cleanly" if r["clean"] else f"FAILS at {r['failing_statement'].split(':')[0]}"
            print(f"   {tool}: {r['statements']} statements, {state}; then confiture diff C -> B: "
                  f"{'identical' if r['identical'] else str(len(r['remaining'])) + ' change(s) remain'}; "
                  f"pg_dump -s C vs B: {len(r['dump_diff'])} differing lines")
        res["checks"] = checks

    with open(os.path.join(a.work, "results.json"), "w") as f:
        json.dump(res, f, indent=2)

    # ---------------------------------------------------------------- report
    failed = False
    times = res["times"]
    print()
    if meas:
        rows = []
        targets = {"introspect": a.target_introspect_ms, "diff": a.target_diff_ms}
        labels = {"introspect": "confiture introspect A --format json > /dev/null",
                  "diff": "confiture diff --from A --to B --sql",
                  "migra": "migra --unsafe A B"}
        for m in meas:
            ts = times[m]
            verdict = ""
            if m in targets:
                ok = med(ts) <= targets[m]
                failed |= not ok
                verdict = f"{'PASS' if ok else 'FAIL'} (target <= {targets[m]:.0f} ms)"
            rows.append((labels[m], len(ts), f"{med(ts):.1f}", f"{min(ts):.1f}-{max(ts):.1f}", verdict))
        if "diff" in times and "migra" in times:
            r = med(times["diff"]) / med(times["migra"])
            rows.append(("ratio confiture diff / migra", "", f"{r:.3f}x", "", f"(migra takes {1 / r:.1f}x as long)"))
        if "introspect" in times and "migra" in times:
            r = med(times["introspect"]) / med(times["migra"])
            rows.append(("ratio confiture introspect / migra", "", f"{r:.3f}x", "", ""))
        table(rows, ("measurement", "runs", "median ms", "min-max ms", "result"), {1, 2, 3})
        for m, n in res["outputs_differ"].items():
            print(f"NOTE: {m}'s output differed from its first run's in {n} run(s)")
    if "profile" in res:
        p = res["profile"]
        per = sorted(p["per_query_ms"].items(), key=lambda kv: -kv[1])
        print(f"\nintrospect, one profiled run (log_min_duration_statement = 0): wall {p['wall_ms']:.0f} ms, "
              f"server time of its queries {p['server_ms']:.0f} ms (parse+bind+execute, one connection): "
              + ", ".join(f"{k} {v:.0f}" for k, v in per if v >= 1) + f"; JSON {res['introspect_bytes'] / 1e6:.1f} MB")
    for r in checks:
        print(f"\ncorrectness, {r['tool']}'s SQL ({r['statements']} statements, {r['bytes'] / 1000:.0f} kB) "
              f"on a copy of A:")
        if r["clean"]:
            print(f"  applies cleanly with ON_ERROR_STOP=1 ({r['apply_ms']:.0f} ms)")
        else:
            print(f"  FAILS with ON_ERROR_STOP=1: {r['first_error'][0].split(chr(10))[0]}")
            print(f"  failing statement, {r['failing_statement']}")
            print(f"  applied again past errors (ON_ERROR_STOP=0): {len(r['all_errors'])} statement(s) fail:")
            for e in r["all_errors"][:10]:
                print(f"    {e}")
            if len(r["all_errors"]) > 10:
                print(f"    ... {len(r['all_errors']) - 10} more")
        verdict = "identical: true" if r["identical"] else (
            f"identical: false, {len(r['remaining'])} change(s) remain"
            + (f" ({r['remaining_recreated_views']} views to drop and add again, listed last)"
               if r["remaining_recreated_views"] else ""))
        print(f"  then confiture diff --from C --to B: {verdict}")
        for c in r["remaining"][:15]:
            print(f"    {c}")
        if len(r["remaining"]) > 15:
            print(f"    ... {len(r['remaining']) - 15} more")
        print(f"  pg_dump --schema-only of C vs B: "
              + ("identical" if not r["dump_diff"] else f"{len(r['dump_diff'])} differing lines:"))
        for ln in r["dump_diff"][:12]:
            print(f"    {ln[:160]}")
        if len(r["dump_diff"]) > 12:
            print(f"    ... {len(r['dump_diff']) - 12} more")
        if r["tool"] == "confiture":
            good = r["clean"] and r["identical"] and not r["dump_diff"]
            failed |= not good
            print(f"  -> {'PASS' if good else 'FAIL'} (target: applies cleanly, identical, same pg_dump)")
        else:
            print("  (informational)")
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
