#!/usr/bin/env python3
"""Hook overhead, dry-run overhead and dry-run estimate accuracy of `confiture migrate up`.
Stdlib only. Called by bench/hooks/run.sh, which builds the binary and starts the server;
see the header of run.sh and bench/hooks/README.md for what is measured and how.

    bench.py --confiture BIN --pg-bin DIR --port PORT --work DIR
             [--hook-rounds 100] [--hook-warmup 3] [--big-rounds 20] [--big-warmup 1]
             [--flow-rounds 3] [--rows 1000000] [--only hooks,dryrun]
             [--target-hooks 1.1] [--target-dry-ratio 1.05] [--target-dry-ms 50]
             [--target-estimate 0.15]

Exit status: 0 every run succeeded and every target is met; 1 a command failed (printed);
2 everything ran but a target was missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

HOOK_VERSION = "20260101000000"
SETUP_VERSION = "20260201000000"
BIG_VERSION = "20260201000001"

# ------------------------------------------------------------------ helpers


def fail(what: str, cmd, p: subprocess.CompletedProcess | None = None) -> None:
    shown = cmd if isinstance(cmd, str) else shlex.join(cmd)
    print(f"\nFAILED: {what}\n  command: {shown}", file=sys.stderr)
    if p is not None:
        print(f"  exit status: {p.returncode}", file=sys.stderr)
        for label, data in (("stderr", p.stderr), ("stdout", p.stdout)):
            text = data.decode("utf-8", "replace").strip()
            if text:
                lines = text.split("\n")
                if len(lines) > 60:
                    lines = [f"... ({len(lines) - 60} earlier lines omitted)"] + lines[-60:]
                print(f"  --- {label} ---\n" + "\n".join(lines), file=sys.stderr)
    sys.exit(1)


def run(cmd: list[str], what: str) -> subprocess.CompletedProcess:
    """Run an untimed command; it must exit 0."""
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        fail(what, cmd, p)
    return p


def timed(cmd: list[str], what: str) -> tuple[float, dict]:
    """Wall time (ms) of one run of `cmd` (fork/exec to exit) and its JSON stdout."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ms = (time.perf_counter() - t0) * 1000.0
    if p.returncode != 0:
        fail(what, cmd, p)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        fail(f"{what}: stdout is not JSON", cmd, p)
    return ms, doc


def write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def load() -> str:
    with open("/proc/loadavg") as f:
        return "load average " + " ".join(f.read().split()[:3])


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs: how busy the machine was over a section, by
    everything (this benchmark and its server included)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]  # idle + iowait
    return sum(v) - idle, sum(v)


def busy_since(t0: tuple[int, int]) -> str:
    b, t = cpu_ticks()
    return f"CPU busy {100.0 * (b - t0[0]) / max(1, t - t0[1]):.0f}% (all processes, all CPUs)"


def med(xs):
    return statistics.median(xs) if xs else float("nan")


class Pg:
    def __init__(self, pg_bin: str, port: int):
        self.port = port
        self.base = [os.path.join(pg_bin, "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                     "-X", "-At", "-v", "ON_ERROR_STOP=1"]

    def url(self, db: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def sql(self, db: str, *statements: str) -> str:
        """Each statement in its own -c (its own transaction: VACUUM, CREATE DATABASE)."""
        cmd = self.base + ["-d", db]
        for s in statements:
            cmd += ["-c", s]
        return run(cmd, f"psql on {db}").stdout.decode().strip()


def project(root: str, url: str, migrations: dict[str, str]) -> None:
    """A project as `confiture init` lays it out, without the scaffold's examples: an empty
    db/schema, db/environments/local.yaml pointing at `url`, and the given migration files."""
    os.makedirs(os.path.join(root, "db", "schema"), exist_ok=True)
    os.makedirs(os.path.join(root, "db", "migrations"), exist_ok=True)
    write(os.path.join(root, "db", "environments", "local.yaml"),
          "name: local\n"
          f"database_url: {url}\n"
          "include_dirs:\n  - db/schema\n"
          "exclude_dirs: []\n"
          "migration:\n  tracking_table: tb_confiture\n  locking:\n    enabled: true\n    timeout_ms: 30000\n")
    for name, text in migrations.items():
        write(os.path.join(root, "db", "migrations", name), text)


# ------------------------------------------------------------------ 1. hook overhead

HOOK_UP = "CREATE TABLE t_1 (id int);\n"
HOOK_DOWN = "DROP TABLE t_1;\n"
# Five `sql: SELECT 1` hooks, one in each phase that runs on success.
SIDECAR_SQL5 = """\
description: t_1 with five trivial hooks
hooks:
  before_validation:
    - {type: sql, id: h1, config: {sql: "SELECT 1"}}
  before_ddl:
    - {type: sql, id: h2, config: {sql: "SELECT 1"}}
  after_ddl:
    - {type: sql, id: h3, config: {sql: "SELECT 1"}}
  after_validation:
    - {type: sql, id: h4, config: {sql: "SELECT 1"}}
  cleanup:
    - {type: sql, id: h5, config: {sql: "SELECT 1"}}
"""
# A mix on the new table: 3 sql, 2 analyze (an ANALYZE of an empty table is real work, ~1-2 ms).
SIDECAR_MIX = """\
description: t_1 with a mix of sql and analyze hooks
hooks:
  before_ddl:
    - {type: sql, id: h1, config: {sql: "SELECT 1"}}
  after_ddl:
    - {type: analyze, id: h2, config: {tables: [t_1]}}
    - {type: sql, id: h3, config: {sql: "SELECT count(*) FROM t_1"}}
  after_validation:
    - {type: analyze, id: h4}
  cleanup:
    - {type: sql, id: h5, config: {sql: "SELECT 1"}}
"""
HOOK_VARIANTS = {  # name -> (database, sidecar or None, label)
    "plain": ("bench_hooks_plain", None, "no hooks"),
    "sql5": ("bench_hooks_sql5", SIDECAR_SQL5, "5 x sql SELECT 1 (one per phase)"),
    "mix": ("bench_hooks_mix", SIDECAR_MIX, "3 x sql + 2 x analyze t_1"),
}


def round_trip(a, pg: Pg) -> str:
    """Context for the analysis: the mean latency of one client/server round trip on this
    machine right now (simple protocol, one connection, SELECT 1), as pgbench sees it."""
    script = os.path.join(a.work, "select1.sql")
    write(script, "SELECT 1;\n")
    out = run([os.path.join(a.pg_bin, "pgbench"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-n",
               "-f", script, "-t", "3000", "postgres"], "pgbench SELECT 1").stdout.decode()
    lat = [l.split("=")[1].strip() for l in out.splitlines() if l.startswith("latency average")]
    return lat[0] if lat else "?"


def bench_hooks(a, pg: Pg, res: dict) -> None:
    projs = {}
    for v, (db, sidecar, _) in HOOK_VARIANTS.items():
        root = os.path.join(a.work, f"proj_hooks_{v}")
        files = {f"{HOOK_VERSION}_create_t.up.sql": HOOK_UP, f"{HOOK_VERSION}_create_t.down.sql": HOOK_DOWN}
        if sidecar:
            files[f"{HOOK_VERSION}_create_t.yaml"] = sidecar
        project(root, pg.url(db), files)
        pg.sql("postgres", f"DROP DATABASE IF EXISTS {db}", f"CREATE DATABASE {db}")
        projs[v] = root
    up = lambda v: [a.confiture, "migrate", "up", "--format", "json", "-C", projs[v], "--env", "local"]
    down = lambda v: [a.confiture, "migrate", "down", "--format", "json", "-C", projs[v], "--env", "local"]
    print(f"== 1. hook overhead ({load()}): {a.hook_warmup} warm-up + {a.hook_rounds} rounds of "
          f"{', '.join(HOOK_VARIANTS)} (migrate up timed, migrate down untimed after each)")
    for v in HOOK_VARIANTS:
        print(f"   {v:<5} {shlex.join(up(v))}")
    rt_before = round_trip(a, pg)
    ticks = cpu_ticks()
    wall = {v: [] for v in HOOK_VARIANTS}
    inproc = {v: [] for v in HOOK_VARIANTS}
    hook_ms = {v: [] for v in HOOK_VARIANTS}
    order = list(HOOK_VARIANTS)
    for r in range(a.hook_warmup + a.hook_rounds):
        rot = order[r % len(order):] + order[:r % len(order)]  # rotate who goes first
        for v in rot:
            ms, doc = timed(up(v), f"hooks/{v}: migrate up")
            applied = doc.get("applied") or []
            if len(applied) != 1 or applied[0]["version"] != HOOK_VERSION:
                fail(f"hooks/{v}: expected one applied migration, got {applied}", up(v))
            hooks = applied[0].get("hooks", [])
            want = 0 if HOOK_VARIANTS[v][1] is None else 5
            if len(hooks) != want or any(h["status"] != "ok" for h in hooks):
                fail(f"hooks/{v}: expected {want} hooks with status ok, got {hooks}", up(v))
            if r >= a.hook_warmup:
                wall[v].append(ms)
                inproc[v].append(applied[0]["duration_ms"])
                hook_ms[v].append(sum(h["duration_ms"] for h in hooks))
            run(down(v), f"hooks/{v}: migrate down")
        if r + 1 == a.hook_warmup or (r >= a.hook_warmup and (r - a.hook_warmup + 1) % 25 == 0):
            done = r + 1 - a.hook_warmup
            print("   warm-up done" if done == 0 else f"   {done}/{a.hook_rounds} rounds, medians so far: "
                  + "  ".join(f"{v} {med(wall[v]):.1f} ms" for v in HOOK_VARIANTS))
    res["hooks"] = {v: {"label": HOOK_VARIANTS[v][2], "wall_ms": wall[v], "applied_ms": inproc[v],
                        "hooks_ms": hook_ms[v]} for v in HOOK_VARIANTS}
    res["hooks_busy"] = busy_since(ticks)
    print(f"   during these rounds: {res['hooks_busy']}, {load()}")
    res["round_trip"] = f"{rt_before} before, {round_trip(a, pg)} after"
    print(f"   one round trip (pgbench, SELECT 1, 3000 in one connection): {res['round_trip']}")


# ------------------------------------------------------------------ 2/3. dry-run

BIG_UP = """\
UPDATE big SET v = v + 1;
ALTER TABLE big ADD COLUMN c int DEFAULT 0;
CREATE INDEX big_v_idx ON big (v);
"""
BIG_DOWN = """\
DROP INDEX big_v_idx;
ALTER TABLE big DROP COLUMN c;
UPDATE big SET v = v - 1;
"""


def setup_sql(rows: int) -> str:
    return ("CREATE TABLE big (id int PRIMARY KEY, v int NOT NULL);\n"
            f"INSERT INTO big SELECT g, g % 1000 FROM generate_series(1, {rows}) g;\n")


def bench_dryrun(a, pg: Pg, res: dict) -> None:
    tpl, db = "bench_big_tpl", "bench_big"
    root = os.path.join(a.work, "proj_big")
    project(root, pg.url(db), {
        f"{SETUP_VERSION}_create_big.up.sql": setup_sql(a.rows),
        f"{SETUP_VERSION}_create_big.down.sql": "DROP TABLE big;\n",
        f"{BIG_VERSION}_rewrite_big.up.sql": BIG_UP,
        f"{BIG_VERSION}_rewrite_big.down.sql": BIG_DOWN,
    })
    base = [a.confiture, "migrate", "up", "--format", "json", "-C", root, "--env", "local"]
    print(f"== 2./3. dry-run ({load()}): template {tpl} = {a.rows} rows in big(id int PRIMARY KEY, v int), "
          f"applied by confiture (migration {SETUP_VERSION}), then VACUUM (FREEZE, ANALYZE)")
    pg.sql("postgres", f"DROP DATABASE IF EXISTS {db}", f"DROP DATABASE IF EXISTS {tpl}", f"CREATE DATABASE {tpl}")
    t0 = time.perf_counter()
    run(base + ["--database-url", pg.url(tpl), "--target", SETUP_VERSION], "create the template (migrate up --target)")
    pg.sql(tpl, "VACUUM (FREEZE, ANALYZE)")
    size = pg.sql(tpl, "SELECT pg_size_pretty(pg_total_relation_size('big')) || ' (table+PK), database ' "
                       "|| pg_size_pretty(pg_database_size(current_database()))")
    print(f"   template ready in {time.perf_counter() - t0:.1f} s: big is {size}")
    print(f"   measured migration {BIG_VERSION}_rewrite_big.up.sql: "
          + " ".join(l.strip() for l in BIG_UP.strip().splitlines()))
    dry_cmd = base[:3] + ["--dry-run"] + base[3:]
    real_cmd = base
    print(f"   dry  {shlex.join(dry_cmd)}\n   real {shlex.join(real_cmd)}")

    def fresh() -> None:  # untimed: an identical copy of the template, then a checkpoint
        pg.sql("postgres", f"DROP DATABASE IF EXISTS {db}", f"CREATE DATABASE {db} TEMPLATE {tpl}", "CHECKPOINT")

    def dry() -> dict:
        ms, doc = timed(dry_cmd, "migrate up --dry-run")
        if doc.get("failure") or not doc.get("rolled_back") or len(doc.get("migrations", [])) != 1:
            fail(f"dry-run did not run the migration cleanly: {json.dumps(doc)[:2000]}", dry_cmd)
        m = doc["migrations"][0]
        if m["version"] != BIG_VERSION or len(m["statements"]) != 3:
            fail(f"dry-run ran {m['version']} with {len(m['statements'])} statements", dry_cmd)
        return {"wall_ms": ms, "estimate_ms": doc["estimate"]["ms"], "confidence": doc["estimate"]["confidence"],
                "low_ms": doc["estimate"]["low_ms"], "high_ms": doc["estimate"]["high_ms"],
                "migration_ms": m["duration_ms"], "statements_ms": [s["duration_ms"] for s in m["statements"]],
                "wal_bytes": doc.get("wal_bytes")}

    def real() -> dict:
        ms, doc = timed(real_cmd, "migrate up")
        applied = doc.get("applied") or []
        if len(applied) != 1 or applied[0]["version"] != BIG_VERSION or doc.get("created_tracking_table"):
            fail(f"migrate up: expected {BIG_VERSION} applied into the existing tracking table: {doc}", real_cmd)
        return {"wall_ms": ms, "applied_ms": applied[0]["duration_ms"]}

    def check_real() -> None:  # the real run really kept its work
        got = pg.sql(db, "SELECT (SELECT count(*) FROM tb_confiture WHERE version = '%s') || ' ' || "
                         "(SELECT count(*) FROM big WHERE c = 0) || ' ' || "
                         "(SELECT count(*) FROM pg_indexes WHERE indexname = 'big_v_idx')" % BIG_VERSION)
        if got != f"1 {a.rows} 1":
            fail(f"after migrate up: ledger row / rows with c = 0 / index = {got}, expected 1 {a.rows} 1", real_cmd)

    def check_dry() -> None:  # the dry-run kept nothing
        got = pg.sql(db, "SELECT (SELECT count(*) FROM tb_confiture WHERE version = '%s') || ' ' || "
                         "(SELECT count(*) FROM pg_attribute WHERE attrelid = 'big'::regclass AND attname = 'c' "
                         "AND NOT attisdropped) || ' ' || (SELECT sum(v) FROM big)" % BIG_VERSION)
        want = f"0 0 {sum(g % 1000 for g in range(1, a.rows + 1))}"
        if got != want:
            fail(f"after the dry-run: ledger row / column c / sum(v) = {got}, expected {want}", dry_cmd)

    pairs = []
    ticks = cpu_ticks()
    print(f"   {a.big_warmup} warm-up + {a.big_rounds} rounds; each run on a fresh copy of the template "
          "(untimed: DROP DATABASE, CREATE DATABASE ... TEMPLATE, CHECKPOINT); order alternates")
    for r in range(a.big_warmup + a.big_rounds):
        out = {}
        for kind in (("dry", "real") if r % 2 == 0 else ("real", "dry")):
            fresh()
            out[kind] = dry() if kind == "dry" else real()
            (check_dry if kind == "dry" else check_real)()
        d, x = out["dry"], out["real"]
        err = (d["estimate_ms"] - x["applied_ms"]) / x["applied_ms"]
        tag = f"warm-up {r + 1}" if r < a.big_warmup else f"round {r + 1 - a.big_warmup}/{a.big_rounds}"
        print(f"   {tag}: dry wall {d['wall_ms']:.0f} ms (estimate {d['estimate_ms']:.0f}), "
              f"real wall {x['wall_ms']:.0f} ms (applied {x['applied_ms']:.0f}); estimate error {err * 100:+.1f}%")
        if r >= a.big_warmup:
            pairs.append({"first": "dry" if r % 2 == 0 else "real", "dry": d, "real": x})
    res["dryrun"] = {"rows": a.rows, "pairs": pairs, "busy": busy_since(ticks)}
    print(f"   during these rounds: {res['dryrun']['busy']}, {load()}")

    # What a user does: dry-run, then the real run on the same database (informational).
    flows = []
    if a.flow_rounds:
        print(f"   user flow, {a.flow_rounds} round(s) each: dry-run then migrate up on the SAME database, "
              "(a) at once, (b) after VACUUM big + CHECKPOINT")
    for r in range(a.flow_rounds):
        for variant in ("at_once", "vacuum"):
            fresh()
            d = dry()
            dead = pg.sql(db, "SELECT pg_size_pretty(pg_relation_size('big'))")
            if variant == "vacuum":
                pg.sql(db, "VACUUM big", "CHECKPOINT")
            size = pg.sql(db, "SELECT pg_size_pretty(pg_relation_size('big'))")
            x = real()
            check_real()
            err = (d["estimate_ms"] - x["applied_ms"]) / x["applied_ms"]
            print(f"   flow {r + 1} {variant:<7}: estimate {d['estimate_ms']:.0f} ms, real applied {x['applied_ms']:.0f} ms "
                  f"(wall {x['wall_ms']:.0f}); error {err * 100:+.1f}%; heap after dry-run {dead}, before real run {size}")
            flows.append({"variant": variant, "dry": d, "real": x, "heap_after_dry": dead, "heap_before_real": size})
    res["flow"] = flows


# ------------------------------------------------------------------ report


def table(rows, hdr, right):
    w = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
    fmt = lambda r: "  ".join(f"{str(c):>{w[i]}}" if i in right else f"{str(c):<{w[i]}}" for i, c in enumerate(r)).rstrip()
    print(fmt(hdr))
    print("-" * (sum(w) + 2 * (len(w) - 1)))
    for r in rows:
        print(fmt(r))


def report(a, res: dict) -> bool:
    failed = False
    verdict = lambda ok, t: f"{'PASS' if ok else 'FAIL'} (target {t})"
    if "hooks" in res:
        h = res["hooks"]
        print(f"\n1. hook overhead: one migration (CREATE TABLE t_1 (id int)), {a.hook_rounds} rounds, "
              "medians; wall = `confiture migrate up --format json` process start to exit; "
              "applied = applied[].duration_ms (the migration's transaction, measured in the process)")
        rows = []
        for v, d in h.items():
            rows.append((f"{v}: {d['label']}", f"{med(d['wall_ms']):.2f}",
                         f"{min(d['wall_ms']):.1f}-{max(d['wall_ms']):.1f}", f"{med(d['applied_ms']):.2f}",
                         f"{med(d['hooks_ms']):.2f}", ""))
        for v in ("sql5", "mix"):
            rw = med(h[v]["wall_ms"]) / med(h["plain"]["wall_ms"])
            ra = med(h[v]["applied_ms"]) / med(h["plain"]["applied_ms"])
            dw = med(h[v]["wall_ms"]) - med(h["plain"]["wall_ms"])
            da = med(h[v]["applied_ms"]) - med(h["plain"]["applied_ms"])
            ok = rw <= a.target_hooks
            if v == "sql5":
                failed |= not ok
            rows.append((f"ratio {v} / plain", f"{rw:.3f}x", f"{dw:+.2f} ms", f"{ra:.2f}x", f"{da:+.2f} ms",
                         verdict(ok, f"wall <= {a.target_hooks}x") + ("" if v == "sql5" else ", informational")))
        table(rows, ("measurement", "wall ms", "min-max / diff", "applied ms", "hooks ms", "result"), {1, 2, 3, 4})
        print(f"per sql hook (sql5): {med(h['sql5']['hooks_ms']) / 5:.2f} ms in-process (its SAVEPOINT, SQL and RELEASE "
              f"are 3 round trips); one round trip (pgbench SELECT 1): {res.get('round_trip', '?')}")
    if "dryrun" in res:
        ps = res["dryrun"]["pairs"]
        dw = [p["dry"]["wall_ms"] for p in ps]
        rw = [p["real"]["wall_ms"] for p in ps]
        est = [p["dry"]["estimate_ms"] for p in ps]
        ra = [p["real"]["applied_ms"] for p in ps]
        dm = [p["dry"]["migration_ms"] for p in ps]
        limit = a.target_dry_ratio * med(rw) + a.target_dry_ms
        ok2 = med(dw) <= limit
        failed |= not ok2
        print(f"\n2. dry-run overhead: {res['dryrun']['rows']} rows, UPDATE + ADD COLUMN DEFAULT + CREATE INDEX, "
              f"{len(ps)} rounds, each run on a fresh copy of a VACUUM (FREEZE)d template, medians")
        rows = [
            ("real: migrate up (wall)", f"{med(rw):.0f}", f"{min(rw):.0f}-{max(rw):.0f}", ""),
            ("real: applied[].duration_ms", f"{med(ra):.0f}", f"{min(ra):.0f}-{max(ra):.0f}", ""),
            ("dry: migrate up --dry-run (wall)", f"{med(dw):.0f}", f"{min(dw):.0f}-{max(dw):.0f}", ""),
            ("dry: migrations[].duration_ms", f"{med(dm):.0f}", f"{min(dm):.0f}-{max(dm):.0f}", ""),
            ("ratio dry / real (wall)", f"{med(dw) / med(rw):.3f}x", f"{med(dw) - med(rw):+.0f} ms",
             verdict(ok2, f"dry <= {a.target_dry_ratio} x real + {a.target_dry_ms:g} ms = {limit:.0f} ms")),
        ]
        # per-pair ratios, to see past machine drift between rounds
        pr = [p["dry"]["wall_ms"] / p["real"]["wall_ms"] for p in ps]
        rows.append(("per-round dry/real (wall): median", f"{med(pr):.3f}x", f"{min(pr):.2f}-{max(pr):.2f}", ""))
        table(rows, ("measurement", "median ms", "min-max / diff", "result"), {1, 2})

        errs = [(e - r) / r for e, r in zip(est, ra)]
        errs_w = [(e - r) / r for e, r in zip(est, rw)]
        ok3 = abs(med(errs)) <= a.target_estimate
        within = sum(abs(e) <= a.target_estimate for e in errs)
        failed |= not ok3
        print(f"\n3. estimate accuracy: estimate.ms of the dry-run vs the real run of the same round "
              f"(error = (estimate - real) / real)")
        rows = []
        for i, p in enumerate(ps, 1):
            rows.append((str(i), p["first"], f"{p['dry']['estimate_ms']:.0f}", f"{p['real']['applied_ms']:.0f}",
                         f"{errs[i - 1] * 100:+.1f}%", f"{p['real']['wall_ms']:.0f}", f"{errs_w[i - 1] * 100:+.1f}%",
                         " ".join(f"{s:.0f}" for s in p["dry"]["statements_ms"])))
        table(rows, ("round", "first", "estimate ms", "real applied ms", "error", "real wall ms", "error vs wall",
                     "dry statements ms"), {2, 3, 4, 5, 6})
        print(f"median error vs applied[].duration_ms: {med(errs) * 100:+.1f}% "
              f"(median |error| {med([abs(e) for e in errs]) * 100:.1f}%, range {min(errs) * 100:+.1f}% .. "
              f"{max(errs) * 100:+.1f}%, {within}/{len(errs)} runs within ±{a.target_estimate * 100:.0f}%) "
              f"-> {verdict(ok3, f'median within ±{a.target_estimate * 100:.0f}%')}")
        inside = sum(p["dry"]["low_ms"] <= p["real"]["applied_ms"] <= p["dry"]["high_ms"] for p in ps)
        conf = sorted({p["dry"]["confidence"] for p in ps})
        print(f"real run inside the dry-run's reported range [low_ms, high_ms] (±10 %): {inside}/{len(ps)} "
              f"(confidence: {', '.join(conf)})")
        print(f"median error vs real wall time:        {med(errs_w) * 100:+.1f}% "
              f"(median |error| {med([abs(e) for e in errs_w]) * 100:.1f}%)")
        print(f"median estimate / median real applied: {med(est) / med(ra):.3f}")
        # The noise floor: how well one real run predicts another on the same state.
        spread = lambda xs: [(x - med(xs)) / med(xs) for x in xs]
        sr, sd = spread(ra), spread(est)
        print(f"run-to-run spread on identical state (x_i - median) / median: real applied "
              f"{min(sr) * 100:+.1f}% .. {max(sr) * 100:+.1f}% (median |.| {med([abs(x) for x in sr]) * 100:.1f}%, "
              f"{sum(abs(x) <= a.target_estimate for x in sr)}/{len(sr)} within ±{a.target_estimate * 100:.0f}%); "
              f"dry estimate {min(sd) * 100:+.1f}% .. {max(sd) * 100:+.1f}% (median |.| {med([abs(x) for x in sd]) * 100:.1f}%)")
        parts = list(zip(*[p["dry"]["statements_ms"] for p in ps]))
        print("dry-run statements, median ms: " + ", ".join(
            f"{n} {med(list(x)):.0f} ({min(x):.0f}-{max(x):.0f})" for n, x in zip(("UPDATE", "ADD COLUMN", "CREATE INDEX"), parts)))
        print(f"median real applied - median estimate = {med(ra) - med(est):+.0f} ms (the estimate leaves out "
              "BEGIN/SET LOCAL, the tracking-row INSERT and COMMIT, which the real run's duration includes)")
    if res.get("flow"):
        print("\nuser flow (informational): dry-run then migrate up on the same database")
        rows = []
        for f in res["flow"]:
            e = (f["dry"]["estimate_ms"] - f["real"]["applied_ms"]) / f["real"]["applied_ms"]
            rows.append((f["variant"], f"{f['dry']['estimate_ms']:.0f}", f"{f['real']['applied_ms']:.0f}",
                         f"{e * 100:+.1f}%", f["heap_after_dry"], f["heap_before_real"]))
        table(rows, ("then", "estimate ms", "real applied ms", "error", "heap after dry-run", "heap before real"),
              {1, 2, 3})
    return failed


def main() -> int:
    ap = argparse.ArgumentParser(usage=__doc__.split("\n\n")[1].strip())
    ap.add_argument("--confiture", required=True)
    ap.add_argument("--pg-bin", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--only", default="hooks,dryrun")
    ap.add_argument("--hook-rounds", type=int, default=100)
    ap.add_argument("--hook-warmup", type=int, default=3)
    ap.add_argument("--big-rounds", type=int, default=20)
    ap.add_argument("--big-warmup", type=int, default=1)
    ap.add_argument("--flow-rounds", type=int, default=3)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--target-hooks", type=float, default=1.1)
    ap.add_argument("--target-dry-ratio", type=float, default=1.05)
    ap.add_argument("--target-dry-ms", type=float, default=50.0)
    ap.add_argument("--target-estimate", type=float, default=0.15)
    a = ap.parse_args()
    only = set(a.only.split(","))
    if not only <= {"hooks", "dryrun"}:
        ap.error("--only: hooks,dryrun")
    if a.hook_rounds < 1 or a.big_rounds < 1:
        ap.error("rounds must be at least 1")
    pg = Pg(a.pg_bin, a.port)
    res: dict = {}
    t0 = time.perf_counter()
    if "hooks" in only:
        bench_hooks(a, pg, res)
    if "dryrun" in only:
        bench_dryrun(a, pg, res)
    with open(os.path.join(a.work, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    print(f"\n(measurements took {time.perf_counter() - t0:.0f} s, {load()} at the end; raw results: {a.work}/results.json)")
    failed = report(a, res)
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
