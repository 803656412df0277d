#!/usr/bin/env bash
# Benchmark `confiture build` against fraiseql-confiture (Python) and psql.
#
#   bench/build/run.sh [TREE]
#
# TREE is a project directory (holding db/environments/local.yaml); without it a
# tree is generated with bench/build/gen_tree.py into a temporary directory.
#
# Measures (median wall time):
#   build    $CONFITURE build -C TREE --env local -o OUT1.sql                 (BUILD_RUNS, target <= 50 ms)
#   python   cd TREE && $PYCONF build --env local --output OUT2.sql           (BUILD_RUNS, reference)
#   deps     $CONFITURE build -C TREE --env local --order dependencies -o OUT3.sql
#                                                                             (BUILD_RUNS, target <= 250 ms)
#   apply    $CONFITURE build -C TREE --env local --apply --recreate --database-url .../bench_apply
#            versus  dropdb --if-exists + createdb + psql -X -q -v ON_ERROR_STOP=1 -1 -f OUT1.sql
#            into bench_psql on the same throwaway PostgreSQL 15 server   (APPLY_RUNS, target <= 1.1x psql)
#
# Environment:
#   CONFITURE    our binary (default: REPO/target/release/confiture, built with
#                `cargo build --release -p confiture` when missing)
#   PYCONF_VENV  venv of the Python tool (default /opt/pyconf; created with
#                `pip install fraiseql-confiture` when bin/confiture is missing)
#   ONLY         comma list of measurements to run: build,python,deps,apply (default: all)
#   BUILD_RUNS   timed runs per build measurement (default 10); APPLY_RUNS (default 3)
#   WARMUP       untimed runs before the timed ones (default 1)
#   FILES, SEED  generator parameters when no TREE is given (default 1256, 42)
#   PG_BIN       PostgreSQL 15 binaries (default /usr/lib/postgresql/15/bin)
#   KEEP=1       keep the work directory (outputs, results/*.json)
#   FORCE_TIMEIT=1  use bench/build/timeit.py even when hyperfine is installed
#
# Exit status: 0 all measurements ran and every target passed; 1 a measured
# command (or the setup) failed -- its stderr is printed; 2 every measurement
# ran but a target was missed.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
CONFITURE=${CONFITURE:-$REPO/target/release/confiture}
PYCONF_VENV=${PYCONF_VENV:-/opt/pyconf}
PYCONF=$PYCONF_VENV/bin/confiture
ONLY=${ONLY:-build,python,deps,apply}
BUILD_RUNS=${BUILD_RUNS:-10}
APPLY_RUNS=${APPLY_RUNS:-3}
WARMUP=${WARMUP:-1}
FILES=${FILES:-1256}
SEED=${SEED:-42}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
KEEP=${KEEP:-0}

die() { echo "run.sh: $*" >&2; exit 1; }
want() { [[ ",$ONLY," == *",$1,"* ]]; }
for m in ${ONLY//,/ }; do
    case $m in build|python|deps|apply) ;; *) die "unknown measurement '$m' in ONLY (build,python,deps,apply)";; esac
done

WORK=$(mktemp -d /tmp/confiture-bench.XXXXXX)
RES=$WORK/results
mkdir -p "$RES"
PGDIR=""
PGPORT=""

cleanup() {
    local rc=$?
    if [[ -n $PGDIR && -f $PGDIR/data/postmaster.pid ]]; then
        as_pg "'$PG_BIN/pg_ctl' -D '$PGDIR/data' -m fast -w stop" >/dev/null 2>&1 || true
    fi
    [[ -n $PGDIR ]] && rm -rf "$PGDIR"
    if [[ $KEEP == 1 ]]; then
        echo "work directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

as_pg() {  # run a shell command line as the PostgreSQL OS user
    if [[ $(id -u) == 0 ]]; then
        su postgres -s /bin/bash -c "$1"
    else
        bash -c "$1"
    fi
}

# ---------------------------------------------------------------- the tree
if [[ $# -ge 1 ]]; then
    TREE=$(cd "$1" && pwd) || die "no such directory: $1"
    [[ -f $TREE/db/environments/local.yaml ]] || die "$TREE/db/environments/local.yaml not found"
else
    TREE=$WORK/tree
    echo "== generating tree ($FILES files, seed $SEED) into $TREE"
    python3 "$SCRIPT_DIR/gen_tree.py" "$TREE" --files "$FILES" --seed "$SEED" | tail -1
fi
TREE_FILES=$(find "$TREE/db/schema" "$TREE/db/seeds" -name '*.sql' 2>/dev/null | wc -l)
TREE_BYTES=$(find "$TREE/db/schema" "$TREE/db/seeds" -name '*.sql' -print0 2>/dev/null | xargs -0 cat | wc -c)

OUT1=$WORK/out1.sql
OUT2=$WORK/out2.sql
OUT3=$WORK/out3.sql

# ---------------------------------------------------------------- the tools
if want build || want deps || want apply; then
    if [[ ! -x $CONFITURE ]]; then
        if [[ $CONFITURE == "$REPO/target/release/confiture" ]]; then
            echo "== $CONFITURE missing: cargo build --release -p confiture"
            (cd "$REPO" && cargo build --release -p confiture) || die "cargo build failed"
        else
            die "CONFITURE=$CONFITURE is not an executable"
        fi
    fi
fi
if want python; then
    if [[ ! -x $PYCONF ]]; then
        echo "== $PYCONF missing: creating $PYCONF_VENV and installing fraiseql-confiture"
        python3 -m venv "$PYCONF_VENV" || die "python3 -m venv $PYCONF_VENV failed"
        "$PYCONF_VENV/bin/pip" install --quiet fraiseql-confiture || die "pip install fraiseql-confiture failed"
    fi
    if ! grep -q '^database_url:' "$TREE/db/environments/local.yaml"; then
        echo "note: local.yaml has no database_url; fraiseql-confiture refuses such a file (it never connects" >&2
        echo "      during build, but requires the key). Generate with gen_tree.py --yaml both (the default)." >&2
    fi
fi

if [[ -z ${FORCE_TIMEIT:-} ]] && command -v hyperfine >/dev/null 2>&1; then
    TIMER=hyperfine
else
    TIMER=timeit.py
fi

# measure NAME RUNS CWD PREPARE CMD... -> $RES/NAME.json (median_ms, ...)
measure() {
    local name=$1 runs=$2 cwd=$3 prep=$4
    shift 4
    echo "== $name: $* (${runs} runs, $TIMER)"
    if [[ $TIMER == hyperfine ]]; then
        # one untimed run through timeit.py first: on failure it prints the
        # command's stderr, which hyperfine would not show; it also serves as a warm-up
        python3 "$SCRIPT_DIR/timeit.py" --name "$name" --runs 1 --warmup 0 --cwd "$cwd" \
            ${prep:+--prepare "$prep"} -- "$@" >/dev/null || exit 1
        local cmdline hf=()
        cmdline=$(printf '%q ' "$@")
        [[ -n $prep ]] && hf+=(--prepare "$prep")
        if ! (cd "$cwd" && hyperfine --style basic --runs "$runs" --warmup "$(( WARMUP > 0 ? WARMUP - 1 : 0 ))" "${hf[@]}" \
                --export-json "$RES/$name.hyperfine.json" -- "$cmdline"); then
            echo "hyperfine failed for $name; rerunning once to show the error" >&2
            python3 "$SCRIPT_DIR/timeit.py" --name "$name" --runs 1 --warmup 0 --cwd "$cwd" \
                ${prep:+--prepare "$prep"} -- "$@" || exit 1
            die "$name: hyperfine failed but the command succeeded on a rerun (flaky?)"
        fi
        python3 - "$RES/$name.hyperfine.json" "$RES/$name.json" "$name" "$cmdline" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
ms = [t * 1000 for t in r["times"]]
json.dump({"name": sys.argv[3], "median_ms": r["median"] * 1000, "mean_ms": r["mean"] * 1000,
           "min_ms": r["min"] * 1000, "max_ms": r["max"] * 1000, "runs": len(ms),
           "times_ms": [round(t, 3) for t in ms], "command": sys.argv[4], "timer": "hyperfine"},
          open(sys.argv[2], "w"), indent=2)
EOF
    else
        python3 "$SCRIPT_DIR/timeit.py" --name "$name" --runs "$runs" --warmup "$WARMUP" --cwd "$cwd" \
            ${prep:+--prepare "$prep"} --json "$RES/$name.json" -- "$@" || exit 1
    fi
}

# ---------------------------------------------------------------- builds
if want build; then
    measure ours_build "$BUILD_RUNS" "$TREE" "" \
        "$CONFITURE" build -C "$TREE" --env local -o "$OUT1"
    [[ -s $OUT1 ]] || die "ours_build exited 0 but wrote no $OUT1"
fi
if want python; then
    measure python_build "$BUILD_RUNS" "$TREE" "" \
        "$PYCONF" build --env local --output "$OUT2"
    [[ -s $OUT2 ]] || die "python_build exited 0 but wrote no $OUT2"
    py_files=$(grep -c '^ \* File: ' "$OUT2" || true)
    if [[ $py_files != "$TREE_FILES" ]]; then
        echo "WARNING: python_build concatenated $py_files files, the tree has $TREE_FILES" \
             "(are db/seeds/common listed in include_dirs?)" >&2
    fi
fi
if want deps; then
    measure ours_deps "$BUILD_RUNS" "$TREE" "" \
        "$CONFITURE" build -C "$TREE" --env local --order dependencies -o "$OUT3"
    [[ -s $OUT3 ]] || die "ours_deps exited 0 but wrote no $OUT3"
fi

# ---------------------------------------------------------------- apply
FP_NOTE=""
if want apply; then
    [[ -x $PG_BIN/initdb ]] || die "PostgreSQL binaries not found in PG_BIN=$PG_BIN"
    PGDIR=$(mktemp -d /tmp/confiture-bench-pg.XXXXXX)
    chmod 755 "$PGDIR"
    [[ $(id -u) == 0 ]] && chown postgres "$PGDIR"
    PGPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    echo "== starting PostgreSQL ($PG_BIN) on 127.0.0.1:$PGPORT, data in $PGDIR"
    as_pg "'$PG_BIN/initdb' -D '$PGDIR/data' -A trust -U postgres" >"$WORK/initdb.log" 2>&1 \
        || { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
    as_pg "'$PG_BIN/pg_ctl' -D '$PGDIR/data' -w -o \"-p $PGPORT -k '$PGDIR' -c listen_addresses=127.0.0.1\" -l '$PGDIR/log' start" \
        >/dev/null || { cat "$PGDIR/log" >&2; die "pg_ctl start failed"; }
    CONN=(-h 127.0.0.1 -p "$PGPORT" -U postgres)
    APPLY_URL="postgresql://postgres@127.0.0.1:$PGPORT/bench_apply"

    if [[ -s $OUT1 ]]; then
        APPLY_SQL=$OUT1
    else
        # ours_build not selected: build OUT1 once (untimed) so psql applies our output
        echo "== building $OUT1 once (untimed) for the psql baseline"
        python3 "$SCRIPT_DIR/timeit.py" --name ours_build_for_psql --runs 1 --warmup 0 --cwd "$TREE" \
            -- "$CONFITURE" build -C "$TREE" --env local -o "$OUT1" >/dev/null || exit 1
        APPLY_SQL=$OUT1
    fi

    measure ours_apply "$APPLY_RUNS" "$TREE" "" \
        "$CONFITURE" build -C "$TREE" --env local --apply --recreate --database-url "$APPLY_URL"
    measure psql_apply "$APPLY_RUNS" "$TREE" "" \
        bash -c "'$PG_BIN/dropdb' ${CONN[*]} --if-exists bench_psql && '$PG_BIN/createdb' ${CONN[*]} bench_psql && '$PG_BIN/psql' ${CONN[*]} -d bench_psql -X -q -v ON_ERROR_STOP=1 -1 -f '$APPLY_SQL'"

    # both databases should hold the same objects
    fingerprint() {
        "$PG_BIN/psql" "${CONN[@]}" -d "$1" -X -At -v ON_ERROR_STOP=1 -c "
            SELECT string_agg(k || '=' || n, ' ' ORDER BY k) FROM (
              SELECT 'rel_' || c.relkind::text AS k, count(*) AS n FROM pg_class c
                JOIN pg_namespace s ON s.oid = c.relnamespace
               WHERE s.nspname NOT IN ('pg_catalog', 'information_schema') AND s.nspname NOT LIKE 'pg_toast%'
               GROUP BY 1
              UNION ALL SELECT 'functions', count(*) FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace
               WHERE s.nspname NOT IN ('pg_catalog', 'information_schema')
              UNION ALL SELECT 'triggers', count(*) FROM pg_trigger WHERE NOT tgisinternal
              UNION ALL SELECT 'constraints', count(*) FROM pg_constraint c JOIN pg_namespace s ON s.oid = c.connamespace
               WHERE s.nspname NOT IN ('pg_catalog', 'information_schema')) x"
    }
    FP_OURS=$(fingerprint bench_apply) || die "cannot inspect bench_apply after ours_apply"
    FP_PSQL=$(fingerprint bench_psql) || die "cannot inspect bench_psql after psql_apply"
    echo "   bench_apply (ours): $FP_OURS"
    echo "   bench_psql  (psql): $FP_PSQL"
    if [[ $FP_OURS != "$FP_PSQL" ]]; then
        FP_NOTE="WARNING: bench_apply and bench_psql differ (see the two lines above)"
        echo "$FP_NOTE" >&2
    fi
fi

# ---------------------------------------------------------------- report
echo
echo "tree: $TREE ($TREE_FILES files, $TREE_BYTES bytes); timer: $TIMER; $(nproc) CPUs"
for f in "$OUT1" "$OUT2" "$OUT3"; do
    [[ -s $f ]] && echo "output: $(basename "$f") $(wc -c <"$f") bytes"
done
set +e
RES="$RES" FP_NOTE="$FP_NOTE" python3 - <<'EOF'
import json, os, sys
res = {}
d = os.environ["RES"]
for n in ("ours_build", "python_build", "ours_deps", "ours_apply", "psql_apply"):
    p = os.path.join(d, n + ".json")
    if os.path.exists(p):
        res[n] = json.load(open(p))
rows, failed = [], False
def med(n):
    return res[n]["median_ms"] if n in res else None
def row(label, n, target="", verdict=""):
    m = med(n)
    rows.append((label, str(res[n]["runs"]) if n in res else "-", f"{m:.1f}" if m is not None else "not run", target, verdict))
def verdict(ok):
    global failed
    if ok is None:
        return "n/a"
    failed |= not ok
    return "PASS" if ok else "FAIL"
b, p, dp, a, q = (med(n) for n in ("ours_build", "python_build", "ours_deps", "ours_apply", "psql_apply"))
row("ours build (files order)", "ours_build", "<= 50 ms", verdict(None if b is None else b <= 50))
row("python build (fraiseql-confiture)", "python_build")
if b is not None and p is not None:
    rows.append(("  ratio ours/python", "", f"{b / p:.3f}x", "", f"({p / b:.0f}x faster)" if b < p else ""))
row("ours build --order dependencies", "ours_deps", "<= 250 ms", verdict(None if dp is None else dp <= 250))
row("ours build --apply --recreate", "ours_apply", "<= 1.1x psql",
    verdict(None if a is None or q is None else a <= 1.1 * q))
row("dropdb+createdb+psql -1 -f OUT1", "psql_apply")
if a is not None and q is not None:
    rows.append(("  ratio ours/psql", "", f"{a / q:.3f}x", "", ""))
w = [max(len(r[i]) for r in rows + [("measurement", "runs", "median ms", "target", "result")]) for i in range(5)]
hdr = ("measurement", "runs", "median ms", "target", "result")
print()
print(f"{hdr[0]:<{w[0]}}  {hdr[1]:>{w[1]}}  {hdr[2]:>{w[2]}}  {hdr[3]:<{w[3]}}  {hdr[4]}")
print("-" * (sum(w) + 8))
for r in rows:
    print(f"{r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:>{w[2]}}  {r[3]:<{w[3]}}  {r[4]}")
if os.environ.get("FP_NOTE"):
    print(os.environ["FP_NOTE"])
sys.exit(2 if failed else 0)
EOF
status=$?
set -e
exit $status
