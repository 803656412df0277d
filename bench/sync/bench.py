#!/usr/bin/env python3
"""Throughput, deterministic vs random mode, peak memory and the Python tool's speed of
`confiture sync`. Stdlib only. Called by bench/sync/run.sh, which builds the binary, starts the
server and loads the databases; see the header of run.sh and bench/sync/README.md for what is
measured and how.

    bench.py --confiture BIN --pyconf BIN --pg-bin DIR --port PORT --pg-pid PID --work DIR --dir BENCH_DIR
             --rows N [--rounds 7] [--warmup 1] [--big-rows N --big-rounds 3]
             [--py-rows N --py-db-suffix S --py-rounds 3] [--jobs-rounds 3] [--cost-rounds 3]
             [--only throughput,big,python,jobs,cost]
             [--target-throughput 0.9] [--target-det 1.3] [--target-mem-mb 100]

Exit status: 0 every run succeeded and every target is met; 1 a command failed or a result is
wrong (printed); 2 everything ran but a target was missed.
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

SALT = "bench-salt-2f6c1e0a9d4b7c35"  # ANON_SALT of the deterministic profile
SECRET = "bench-secret-8b1d5e3f0a7c9264"  # ANONYMIZATION_SECRET of the Python tool
ANON = ("email", "phone", "first_name")  # the anonymized columns
KEPT = ("id", "tenant_id", "last_name", "ssn", "created_at")  # copied as they are

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


def wrong(what: str) -> None:
    print(f"\nWRONG RESULT: {what}", file=sys.stderr)
    sys.exit(1)


def run(cmd: list[str], what: str, env=None) -> subprocess.CompletedProcess:
    """Run an untimed command; it must exit 0."""
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    if p.returncode != 0:
        fail(what, cmd, p)
    return p


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs: how busy the machine was over a section, by
    everything (this benchmark, its server and whatever else runs on the machine)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]  # idle + iowait
    return sum(v) - idle, sum(v)


def busy_since(t0: tuple[int, int]) -> str:
    b, t = cpu_ticks()
    return f"CPU busy {100.0 * (b - t0[0]) / max(1, t - t0[1]):.0f}% (all processes, all CPUs)"


def load() -> str:
    with open("/proc/loadavg") as f:
        return "load average " + " ".join(f.read().split()[:3])


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


class Pg:
    def __init__(self, pg_bin: str, port: int):
        self.port = port
        self.psql = [os.path.join(pg_bin, "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-X"]

    def url(self, db: str) -> str:
        # A password (ignored: trust authentication) because the Python tool's URL parser
        # refuses a user without one.
        return f"postgresql://postgres:bench@127.0.0.1:{self.port}/{db}"

    def sql(self, db: str, *statements: str) -> str:
        """Each statement in its own -c (its own transaction: CHECKPOINT, VACUUM)."""
        cmd = self.psql + ["-At", "-v", "ON_ERROR_STOP=1", "-d", db]
        for s in statements:
            cmd += ["-c", s]
        return run(cmd, f"psql on {db}").stdout.decode().strip()


# ------------------------------------------------------------------ the runs


class Runner:
    def __init__(self, a, pg: Pg):
        self.a, self.pg = a, pg
        self.env = dict(os.environ, ANON_SALT=SALT, ANONYMIZATION_SECRET=SECRET)
        self.env.pop("PGPASSWORD", None)
        self.digests: dict[tuple[str, str], set[str]] = {}  # (db, variant) -> anonymized-column digests

    def server_cpu(self) -> float:
        """CPU seconds of the server's ended backends so far: the postmaster's cutime + cstime
        (a backend's time is added when the postmaster reaps it). Background processes
        (checkpointer, WAL writer) are not counted."""
        with open(f"/proc/{self.a.pg_pid}/stat") as f:
            v = f.read().rsplit(")", 1)[1].split()
        return (int(v[13]) + int(v[14])) / os.sysconf("SC_CLK_TCK")

    def fresh(self, dst: str, tables: list[str]) -> None:
        """Untimed, before every timed run: the target tables emptied, then a checkpoint, so
        every run starts from the same state and writes its own dirty pages only."""
        self.pg.sql(dst, f"TRUNCATE {', '.join(tables)}", "CHECKPOINT")

    def timed(self, cmd: list[str], what: str, cwd: str | None = None, shell: bool = False):
        """Wall time (ms) of one run (fork/exec to exit), with /usr/bin/time's peak RSS (KB) and
        CPU seconds of the process (for a shell pipeline: of the shell and its children)."""
        stat = os.path.join(self.a.work, "time.out")
        full = ["/usr/bin/time", "-f", "%M %U %S", "-o", stat] + (["bash", "-c", cmd] if shell else cmd)
        s0 = self.server_cpu()
        t0 = time.perf_counter()
        p = subprocess.run(full, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=self.env, cwd=cwd or self.a.work)
        ms = (time.perf_counter() - t0) * 1000.0
        if p.returncode != 0:
            fail(what, cmd, p)
        time.sleep(0.05)  # let the postmaster reap the last backends
        self.last_server_cpu = self.server_cpu() - s0
        with open(stat) as f:
            last = f.read().strip().split("\n")[-1].split()
        return ms, int(last[0]), float(last[1]) + float(last[2]), p

    # -- the commands

    def pipeline_cmd(self, src: str, dst: str, table: str = "users") -> str:
        ps = shlex.join(self.pg.psql)
        return (f"set -o pipefail; {ps} -d {src} -c '\\copy {table} to stdout' | "
                f"{ps} -v ON_ERROR_STOP=1 -d {dst} -c '\\copy {table} from stdin'")

    def confiture_cmd(self, src: str, dst: str, profile: str, jobs: int | None = None) -> list[str]:
        cmd = [self.a.confiture, "sync", "--from", self.pg.url(src), "--to", self.pg.url(dst),
               "--profile", os.path.join(self.a.dir, profile), "--format", "json",
               "--checkpoint", os.path.join(self.a.work, "sync-checkpoint.json")]
        return cmd + (["-j", str(jobs)] if jobs else [])

    def python_cmd(self, src: str, dst: str) -> list[str]:
        return [self.a.pyconf, "sync", "--from", self.pg.url(src), "--to", self.pg.url(dst),
                "--anonymize", "--anonymization-config", os.path.join(self.a.dir, "anon.yaml"),
                "--format", "json"]

    # -- one timed run of each kind, checked

    def pipeline(self, src: str, dst: str, rows: int) -> dict:
        self.fresh(dst, ["users"])
        cmd = self.pipeline_cmd(src, dst)
        ms, rss, cpu, p = self.timed(cmd, "psql \\copy pipeline", shell=True)
        out = p.stdout.decode().strip()
        if out != f"COPY {rows}":
            wrong(f"the pipeline into {dst} printed {out!r}, expected 'COPY {rows}'")
        return {"wall_ms": ms, "cpu_s": cpu, "rss_kb": rss, "server_cpu_s": self.last_server_cpu}

    def confiture(self, src: str, dst: str, profile: str, rows: int, tables: list[str],
                  jobs: int | None = None, check: str | None = None) -> dict:
        self.fresh(dst, tables)
        cmd = self.confiture_cmd(src, dst, profile, jobs)
        ms, rss, cpu, p = self.timed(cmd, f"confiture sync --profile {profile}")
        try:
            doc = json.loads(p.stdout)
        except ValueError:
            fail("confiture sync: stdout is not JSON", cmd, p)
        if doc.get("ok") is not True or doc.get("rows") != rows or doc.get("verification"):
            wrong(f"confiture sync --profile {profile} into {dst} reported:\n{json.dumps(doc, indent=2)}")
        copied = {t["table"]: t for t in doc["tables"]}
        for t in tables:
            if copied.get(f"public.{t}", {}).get("status") != "copied":
                wrong(f"confiture sync did not copy public.{t}:\n{json.dumps(doc, indent=2)}")
        r = {"wall_ms": ms, "cpu_s": cpu, "rss_kb": rss, "server_cpu_s": self.last_server_cpu,
             "duration_ms": doc["duration_ms"],
             "rows_per_second": {t: copied[f"public.{t}"]["rows_per_second"] for t in tables},
             "format": {t: copied[f"public.{t}"].get("format") for t in tables},
             "readers": {t: copied[f"public.{t}"].get("readers") for t in tables},
             "anonymized": {t: [x["column"] for x in copied[f"public.{t}"].get("anonymized", [])] for t in tables}}
        if check:
            self.check(src, dst, rows, tables, check)
        return r

    def python(self, src: str, dst: str, rows: int) -> dict:
        self.fresh(dst, ["users"])
        cmd = self.python_cmd(src, dst)
        ms, rss, cpu, p = self.timed(cmd, "fraiseql-confiture sync")
        try:
            doc = json.loads(p.stdout)
        except ValueError:
            fail("fraiseql-confiture sync: stdout is not JSON", cmd, p)
        if doc.get("ok") is not True or doc.get("total_rows") != rows:
            wrong(f"fraiseql-confiture sync into {dst} reported:\n{json.dumps(doc, indent=2)}")
        self.check(src, dst, rows, ["users"], "python")
        return {"wall_ms": ms, "cpu_s": cpu, "rss_kb": rss, "server_cpu_s": self.last_server_cpu}

    # -- correctness (untimed)

    def digest(self, db: str, table: str, cols) -> tuple[int, str]:
        expr = " || '|' || ".join(f"coalesce({c}::text, '~')" for c in cols)
        out = self.pg.sql(db, f"SELECT count(*), md5(string_agg({expr}, ',' ORDER BY id)) FROM {table}")
        n, h = out.split("|")
        return int(n), h

    def check(self, src: str, dst: str, rows: int, tables: list[str], variant: str) -> None:
        """The target holds every row; the kept columns are the source's; the anonymized ones
        are not; deterministic runs give the same values every time, random runs never."""
        for t in tables:
            n, kept = self.digest(dst, t, KEPT)
            if n * len(tables) != rows and not (len(tables) == 1 and n == rows):
                wrong(f"{dst}.{t} has {n} rows after {variant}")
            if kept != self.digest(src, t, KEPT)[1]:
                wrong(f"{dst}.{t}: the columns {', '.join(KEPT)} differ from the source after {variant}")
            anon = self.digest(dst, t, ANON)[1]
            if variant == "plain":
                if anon != self.digest(src, t, ANON)[1]:
                    wrong(f"{dst}.{t}: the columns {', '.join(ANON)} differ from the source after {variant}")
                continue
            # Every anonymized column changed in the first 1000 rows (NULL phones stay NULL).
            q = (f"SELECT id, {', '.join(ANON)} FROM {t} WHERE id <= 1000 ORDER BY id")
            a_rows = self.pg.sql(src, q).split("\n")
            b_rows = self.pg.sql(dst, q).split("\n")
            same = [0] * len(ANON)
            for ra, rb in zip(a_rows, b_rows):
                for i, (x, y) in enumerate(zip(ra.split("|")[1:], rb.split("|")[1:])):
                    same[i] += x == y and x != ""
            self.same_counts = dict(zip(ANON, same))
            if same[0] or same[1]:
                wrong(f"{dst}.{t}: {dict(zip(ANON, same))} values of the first 1000 rows are unchanged after {variant}")
            self.digests.setdefault((f"{src}.{t}", variant), set()).add(anon)


# ------------------------------------------------------------------ the measurements


def rotate(variants: list[str], r: int) -> list[str]:
    k = r % len(variants)
    return variants[k:] + variants[:k]


def mb(kb: float) -> str:
    return f"{kb / 1024:.1f} MB"


def bench_throughput(a, rn: Runner, res: dict) -> None:
    variants = ["pipeline", "deterministic", "random", "plain", "det_j1"]
    profiles = {"deterministic": "det.yaml", "random": "random.yaml", "plain": "plain.yaml", "det_j1": "det.yaml"}
    print(f"\n== 1.-3. throughput, deterministic vs random, memory: users = {a.rows:,} rows "
          f"(src -> dst); {a.warmup} warm-up + {a.rounds} rounds, order rotating ({load()})")
    print(f"   pipeline      {rn.pipeline_cmd('src', 'dst')}")
    for v, prof in profiles.items():
        print(f"   {v:<13} {shlex.join(rn.confiture_cmd('src', 'dst', prof, 1 if v == 'det_j1' else None))}")
    print("   before each run (untimed): TRUNCATE users; CHECKPOINT on dst. After it (untimed): row count, "
          "kept columns = source, anonymized columns changed")
    out = {v: [] for v in variants}
    c0 = cpu_ticks()
    for r in range(a.warmup + a.rounds):
        line = []
        for v in rotate(variants, r):
            if v == "pipeline":
                x = rn.pipeline("src", "dst", a.rows)
            else:
                x = rn.confiture("src", "dst", profiles[v], a.rows, ["users"], jobs=1 if v == "det_j1" else None,
                                 check="deterministic" if v == "det_j1" else v)
            x["load"] = load()
            if r >= a.warmup:
                out[v].append(x)
            line.append(f"{v} {x['wall_ms']:,.0f} ms" + (f" ({mb(x['rss_kb'])})" if v != "pipeline" else ""))
        tag = "warm-up" if r < a.warmup else f"round {r - a.warmup + 1}/{a.rounds}"
        print(f"   {tag}: " + ", ".join(line) + f"; {load()}")
    res["throughput"] = out
    res["throughput_busy"] = busy_since(c0)
    print(f"   during these rounds: {res['throughput_busy']}")
    det = rn.digests.get(("src.users", "deterministic"), set())
    rnd = rn.digests.get(("src.users", "random"), set())
    n_rnd = a.warmup + a.rounds  # runs of each variant
    if len(det) != 1:
        wrong(f"the deterministic profile gave {len(det)} different outputs over {n_rnd} runs")
    if len(rnd) != n_rnd:
        wrong(f"the random profile gave only {len(rnd)} different outputs over {n_rnd} runs")
    res["checks"] = (f"every run: {a.rows:,} rows; id, tenant_id, last_name, ssn, created_at identical to the "
                     f"source; email and phone changed in every one of the first 1000 rows (first_name kept by "
                     f"chance in {rn.same_counts['first_name']} of them, last run); the deterministic profile gave "
                     f"the same anonymized columns in all {2 * n_rnd} runs (-j 2 and -j 1), the random one {len(rnd)} different "
                     f"outputs in {n_rnd} runs; plain = the source")
    print(f"   checks: {res['checks']}")


def bench_big(a, rn: Runner, res: dict) -> None:
    print(f"\n== 3. memory at {a.big_rows:,} rows (src_big -> dst_big): {a.big_rounds} round(s) of the pipeline "
          f"and deterministic confiture, alternating ({load()})")
    out = {"pipeline": [], "deterministic": []}
    c0 = cpu_ticks()
    for r in range(a.big_rounds):
        line = []
        for v in rotate(["pipeline", "deterministic"], r):
            if v == "pipeline":
                x = rn.pipeline("src_big", "dst_big", a.big_rows)
            else:
                x = rn.confiture("src_big", "dst_big", "det.yaml", a.big_rows, ["users"], check="deterministic")
            out[v].append(x)
            line.append(f"{v} {x['wall_ms']:,.0f} ms" + (f" ({mb(x['rss_kb'])})" if v != "pipeline" else ""))
        print(f"   round {r + 1}/{a.big_rounds}: " + ", ".join(line) + f"; {load()}")
    res["big"] = out
    res["big_busy"] = busy_since(c0)
    print(f"   during these rounds: {res['big_busy']}")


def bench_python(a, rn: Runner, res: dict) -> None:
    src, dst = f"src{a.py_db_suffix}", f"dst{a.py_db_suffix}"
    print(f"\n== 4. vs fraiseql-confiture: users = {a.py_rows:,} rows ({src} -> {dst}); {a.py_rounds} round(s), "
          f"each the Python tool and deterministic confiture, alternating ({load()})")
    print(f"   python     ANONYMIZATION_SECRET=... {shlex.join(rn.python_cmd(src, dst))}")
    print(f"   confiture  ANON_SALT=... {shlex.join(rn.confiture_cmd(src, dst, 'det.yaml'))}")
    ver = run([a.pyconf, "--version"], "fraiseql-confiture --version").stdout.decode().strip().split("\n")[0]
    res["python_version"] = ver
    print(f"   {ver}")
    out = {"python": [], "deterministic": []}
    c0 = cpu_ticks()
    for r in range(a.py_rounds):
        line = []
        for v in rotate(["python", "deterministic"], r):
            if v == "python":
                x = rn.python(src, dst, a.py_rows)
            else:
                x = rn.confiture(src, dst, "det.yaml", a.py_rows, ["users"], check="deterministic")
            out[v].append(x)
            line.append(f"{v} {x['wall_ms']:,.0f} ms ({mb(x['rss_kb'])})")
        print(f"   round {r + 1}/{a.py_rounds}: " + ", ".join(line) + f"; {load()}")
    res["python"] = out
    res["python_busy"] = busy_since(c0)
    print(f"   during these rounds: {res['python_busy']}")


def bench_jobs(a, rn: Runner, res: dict) -> None:
    half = a.rows // 2
    print(f"\n== 5. -j 1 vs -j 2: users + customers = 2 x {half:,} rows (src_two -> dst_two); {a.jobs_rounds} "
          f"round(s), alternating ({load()})")
    for j in (1, 2):
        print(f"   -j {j}  {shlex.join(rn.confiture_cmd('src_two', 'dst_two', 'det.yaml', j))}")
    out = {"j1": [], "j2": []}
    c0 = cpu_ticks()
    for r in range(a.jobs_rounds):
        line = []
        for v in rotate(["j1", "j2"], r):
            x = rn.confiture("src_two", "dst_two", "det.yaml", 2 * half, ["users", "customers"],
                             jobs=int(v[1]), check="deterministic")
            out[v].append(x)
            line.append(f"-j {v[1]} {x['wall_ms']:,.0f} ms ({mb(x['rss_kb'])})")
        print(f"   round {r + 1}/{a.jobs_rounds}: " + ", ".join(line) + f"; {load()}")
    res["jobs"] = out
    res["jobs_busy"] = busy_since(c0)
    print(f"   during these rounds: {res['jobs_busy']}")


def bench_cost(a, rn: Runner, res: dict) -> None:
    """Where confiture's CPU goes: one anonymized column at a time (deterministic), against no
    anonymized column. Profiles written into the work directory."""
    cols = list(ANON)
    strat = {"email": "email_mask", "phone": "phone", "first_name": "first_name"}
    for c in cols:
        rules = "\n".join(f"      {k}: {strat[k] if k == c else '{strategy: none}'}"
                          for k in cols + ["last_name", "ssn", "tenant_id"])
        write(os.path.join(a.work, f"only_{c}.yaml"),
              f"anonymization_profile: only_{c}\nsalt: ${{ANON_SALT}}\nrules:\n  - table: users\n    columns:\n{rules}\n")
    variants = ["plain"] + cols
    print(f"\n== 6. CPU per strategy: users = {a.rows:,} rows (src -> dst); {a.cost_rounds} round(s) of confiture with "
          f"no anonymized column (plain.yaml) and with one column at a time (only_COLUMN.yaml, keyed), "
          f"rotating ({load()})")
    out = {v: [] for v in variants}
    c0 = cpu_ticks()
    for r in range(a.cost_rounds):
        line = []
        for v in rotate(variants, r):
            prof = os.path.join(a.work, f"only_{v}.yaml") if v in cols else "plain.yaml"
            x = rn.confiture("src", "dst", prof, a.rows, ["users"])
            out[v].append(x)
            line.append(f"{v} {x['wall_ms']:,.0f} ms (CPU {x['cpu_s']:.2f} s)")
        print(f"   round {r + 1}/{a.cost_rounds}: " + ", ".join(line) + f"; {load()}")
    res["cost"] = out
    res["cost_busy"] = busy_since(c0)
    print(f"   during these rounds: {res['cost_busy']}")


# ------------------------------------------------------------------ report


LABEL = {"det_j1": "deterministic -j 1"}


def variants_of(t: dict) -> list[str]:
    return [v for v in ("pipeline", "deterministic", "random", "plain", "det_j1") if v in t]


def table(rows, hdr):
    w = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
    fmt = lambda r: "  ".join(str(c).ljust(w[i]) if i == 0 else str(c).rjust(w[i]) for i, c in enumerate(r))
    print(fmt(hdr))
    print("-" * (sum(w) + 2 * (len(w) - 1)))
    for r in rows:
        print(fmt(r))


def report(a, res: dict) -> bool:
    ok = True
    verdict = lambda good: "pass" if good else "MISS"
    print("\n================================================================ results")
    rss_all = []
    if "throughput" in res:
        t = res["throughput"]
        m = {v: med([x["wall_ms"] for x in xs]) for v, xs in t.items()}
        rows = []
        for v in variants_of(t):
            xs = t[v]
            rps = a.rows / (m[v] / 1000.0)
            rss = "" if v == "pipeline" else mb(max(x["rss_kb"] for x in xs))
            rep = "" if v == "pipeline" else f"{med([x['duration_ms'] for x in xs]):,.0f}"
            rps_rep = "" if v == "pipeline" else f"{med([x['rows_per_second']['users'] for x in xs]):,.0f}"
            readers = "" if v == "pipeline" else "/".join(sorted({str(x["readers"]["users"]) for x in xs}))
            rows.append([LABEL.get(v, v), readers, f"{m[v]:,.0f}", f"{min(x['wall_ms'] for x in xs):,.0f}-{max(x['wall_ms'] for x in xs):,.0f}",
                         f"{rps:,.0f}", rep, rps_rep, f"{med([x['cpu_s'] for x in xs]):.2f}",
                         f"{med([x['server_cpu_s'] for x in xs]):.2f}",
                         f"{med([(x['cpu_s'] + x['server_cpu_s']) / (x['wall_ms'] / 1000) for x in xs]):.2f}", rss])
            if v != "pipeline":
                rss_all += [x["rss_kb"] for x in xs]
        print(f"\nusers, {a.rows:,} rows, median of {a.rounds} rounds (wall = fork/exec to exit):")
        table(rows, ["variant", "readers", "wall ms", "range", "rows/s (wall)", "report ms", "report rows/s", "client CPU s",
                     "server CPU s", "CPUs busy", "peak RSS"])
        print("(client CPU: the confiture process, or both psql and their shell; server CPU: the backends; "
              "CPUs busy: (client + server CPU) / wall, out of 2)")
        r1 = m["pipeline"] / m["deterministic"]
        r1r = m["pipeline"] / m["random"]
        r2 = m["deterministic"] / m["random"]
        ok &= r1 >= a.target_throughput and r2 <= a.target_det
        res["ratios"] = {"throughput_det": r1, "throughput_random": r1r, "det_over_random": r2,
                         "plain_over_pipeline": m["plain"] / m["pipeline"]}
        print(f"\n1. throughput: pipeline / confiture (deterministic, 3 columns) = {r1:.3f}  "
              f"(target >= {a.target_throughput}: {verdict(r1 >= a.target_throughput)}); "
              f"with the random profile {r1r:.3f}; confiture without anonymized column / pipeline = "
              f"{m['plain'] / m['pipeline']:.3f}")
        if "det_j1" in m:
            res["ratios"]["det_j1_over_det"] = m["det_j1"] / m["deterministic"]
            print(f"   deterministic -j 1 (one reader) / default -j 2 = {m['det_j1'] / m['deterministic']:.3f}; "
                  f"pipeline / deterministic -j 1 = {m['pipeline'] / m['det_j1']:.3f}")
        print(f"2. deterministic / random = {r2:.3f}  (target <= {a.target_det}: {verdict(r2 <= a.target_det)})")
    if "big" in res:
        b = res["big"]
        mp, md = med([x["wall_ms"] for x in b["pipeline"]]), med([x["wall_ms"] for x in b["deterministic"]])
        rss_all += [x["rss_kb"] for x in b["deterministic"]]
        print(f"\nusers, {a.big_rows:,} rows, median of {a.big_rounds}: pipeline {mp:,.0f} ms, confiture deterministic "
              f"{md:,.0f} ms ({a.big_rows / md * 1000:,.0f} rows/s; report {med([x['rows_per_second']['users'] for x in b['deterministic']]):,.0f} "
              f"rows/s); pipeline / confiture = {mp / md:.3f}; peak RSS "
              f"{', '.join(mb(x['rss_kb']) for x in b['deterministic'])}")
        res["ratios"] = dict(res.get("ratios", {}), big_throughput=mp / md)
    if "python" in res:
        p = res["python"]
        mpy, mc = med([x["wall_ms"] for x in p["python"]]), med([x["wall_ms"] for x in p["deterministic"]])
        rss_all += [x["rss_kb"] for x in p["deterministic"]]
        print(f"\n4. users, {a.py_rows:,} rows, median of {a.py_rounds}: fraiseql-confiture {mpy:,.0f} ms "
              f"({a.py_rows / mpy * 1000:,.0f} rows/s, peak RSS {mb(max(x['rss_kb'] for x in p['python']))}, "
              f"CPU {med([x['cpu_s'] for x in p['python']]):.1f} s, server CPU {med([x['server_cpu_s'] for x in p['python']]):.1f} s); "
              f"confiture deterministic {mc:,.0f} ms "
              f"({a.py_rows / mc * 1000:,.0f} rows/s, peak RSS {mb(max(x['rss_kb'] for x in p['deterministic']))}); "
              f"confiture / python = {mc / mpy:.3f} (confiture {mpy / mc:.1f}x faster)")
        res["ratios"] = dict(res.get("ratios", {}), confiture_over_python=mc / mpy)
    if "jobs" in res:
        j = res["jobs"]
        m1, m2 = med([x["wall_ms"] for x in j["j1"]]), med([x["wall_ms"] for x in j["j2"]])
        rss_all += [x["rss_kb"] for x in j["j1"] + j["j2"]]
        print(f"\n5. two tables of {a.rows // 2:,} rows, median of {a.jobs_rounds}: -j 1 {m1:,.0f} ms, -j 2 {m2:,.0f} ms; "
              f"-j 2 / -j 1 = {m2 / m1:.3f}; peak RSS -j 1 {mb(max(x['rss_kb'] for x in j['j1']))}, "
              f"-j 2 {mb(max(x['rss_kb'] for x in j['j2']))}")
        res["ratios"] = dict(res.get("ratios", {}), j2_over_j1=m2 / m1)
    if "cost" in res:
        c = res["cost"]
        base = med([x["cpu_s"] for x in c["plain"]])
        print(f"\n6. CPU of the confiture process, {a.rows:,} rows, median of {a.cost_rounds}: no anonymized column "
              f"{base:.2f} s (wall {med([x['wall_ms'] for x in c['plain']]):,.0f} ms); "
              + "; ".join(f"{v} alone +{med([x['cpu_s'] for x in c[v]]) - base:.2f} s "
                          f"({(med([x['cpu_s'] for x in c[v]]) - base) / a.rows * 1e9:,.0f} ns/value, wall "
                          f"{med([x['wall_ms'] for x in c[v]]):,.0f} ms)" for v in ANON))
    if rss_all:
        peak = max(rss_all)
        good = peak <= a.target_mem_mb * 1024
        ok &= good
        print(f"\n3. peak RSS of confiture over all {len(rss_all)} timed runs: {mb(peak)}  "
              f"(target <= {a.target_mem_mb} MB: {verdict(good)})")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--confiture", required=True)
    ap.add_argument("--pyconf", required=True)
    ap.add_argument("--pg-bin", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pg-pid", type=int, required=True, help="the postmaster's pid")
    ap.add_argument("--work", required=True)
    ap.add_argument("--dir", required=True, help="bench/sync: the profiles")
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--big-rows", type=int, default=3000000)
    ap.add_argument("--big-rounds", type=int, default=3)
    ap.add_argument("--py-rows", type=int, default=0)
    ap.add_argument("--py-db-suffix", default="")
    ap.add_argument("--py-rounds", type=int, default=3)
    ap.add_argument("--jobs-rounds", type=int, default=3)
    ap.add_argument("--cost-rounds", type=int, default=3)
    ap.add_argument("--only", default="throughput,big,python,jobs,cost")
    ap.add_argument("--target-throughput", type=float, default=0.9)
    ap.add_argument("--target-det", type=float, default=1.3)
    ap.add_argument("--target-mem-mb", type=float, default=100)
    a = ap.parse_args()
    a.py_rows = a.py_rows or a.rows
    only = set(a.only.split(","))
    pg = Pg(a.pg_bin, a.port)
    rn = Runner(a, pg)
    res: dict = {"args": vars(a)}
    t0 = time.time()
    if "throughput" in only and a.rounds > 0:
        bench_throughput(a, rn, res)
    if "big" in only and a.big_rounds > 0:
        bench_big(a, rn, res)
    if "python" in only and a.py_rounds > 0:
        bench_python(a, rn, res)
    if "jobs" in only and a.jobs_rounds > 0:
        bench_jobs(a, rn, res)
    if "cost" in only and a.cost_rounds > 0:
        bench_cost(a, rn, res)
    ok = report(a, res)
    res["seconds"] = time.time() - t0
    write(os.path.join(a.work, "results.json"), json.dumps(res, indent=1, default=str))
    print(f"\nmeasurements took {res['seconds']:.0f} s; raw results in {a.work}/results.json")
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
