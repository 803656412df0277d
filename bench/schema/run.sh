#!/usr/bin/env bash
# Benchmark `confiture introspect` and `confiture diff` against migra (Python) on two databases
# of 1,000 tables each:
#
#   bash bench/schema/run.sh
#
# bench/schema/gen_schema.py writes schema A (1,000 tables with PK, FK to an earlier table,
# 2 indexes, checks and comments; 100 plpgsql functions, 50 triggers, 50 views) and schema B (A
# after a realistic release: 10 tables dropped, 10 added, 50 with an added column, 20 indexes
# changed, 10 function bodies changed, 5 views redefined, and ~50 smaller changes -- the list
# is in gen_schema.py's header and printed by this script). They are loaded (untimed, one
# transaction each) into bench_a and bench_b on a throwaway PostgreSQL 15 server, then
# VACUUM ANALYZEd. Measured by bench/schema/bench.py, in the same run:
#
#   introspect  confiture introspect --database-url URL_A --format json > /dev/null   target <= 0.5 s
#   diff        confiture -C PROJ diff --from URL_A --to URL_B --sql > FILE          target <= 1 s
#   migra       migra --unsafe URL_A URL_B > FILE (exit 2 = differences, accepted); ratio diff/migra
#
# WARMUP untimed rounds, then ROUNDS rounds (MIGRA_ROUNDS for migra); every round runs each
# measurement once, the order rotating from round to round; medians reported. Wall time is
# fork/exec to exit of the one command. Every tool connects over TCP to 127.0.0.1. PROJ is a
# project made by `confiture init` (DSN sources need no embedded cluster). Also one untimed
# introspect with log_min_duration_statement = 0: the server time of each catalog query.
#
# Correctness (untimed; target for confiture, informational for migra): each tool's SQL A -> B
# is applied to a copy of A (CREATE DATABASE c TEMPLATE bench_a; psql -v ON_ERROR_STOP=1 -f).
# When it fails, the failing statement is printed and the SQL applied again to a fresh copy
# past errors (ON_ERROR_STOP=0), to list every failing statement. Then
# `confiture diff --from C --to B --format json` must say "identical": true (the remaining
# changes are listed otherwise), and, independently of confiture's model, pg_dump
# --schema-only of C and B are compared (differing lines listed).
#
# Environment:
#   CONFITURE     our binary (default: REPO/target/release/confiture, built with
#                 `cargo build --release -p confiture` when missing, or always with BUILD=1;
#                 a warning is printed when sources under crates/ are newer than it)
#   MIGRA_VENV    venv of migra (default /opt/migra; created when bin/migra is missing with
#                 `pip install migra psycopg2-binary 'sqlalchemy<2.1'`: SQLAlchemy 2.1 maps
#                 postgresql:// to psycopg 3, which migra's dependencies do not install)
#   ONLY          introspect,diff,migra,check (default: all)
#   ROUNDS        timed rounds (default 10); MIGRA_ROUNDS (default ROUNDS); WARMUP (default 1)
#   TABLES, SEED  generator parameters (default 1000, 42)
#   TARGET_INTROSPECT_MS (500) TARGET_DIFF_MS (1000)
#   PG_BIN        PostgreSQL 15 binaries (default /usr/lib/postgresql/15/bin)
#   KEEP=1        keep the work directory (a.sql, b.sql, changes.txt, out/diff.sql,
#                 out/migra.sql, pg_dumps, results.json, server log) and the C databases'
#                 dumps
#
# Exit status: 0 everything ran and every target is met (both timings, and confiture's SQL
# turns a copy of A into B); 1 a command (or the setup) failed -- its stderr is printed;
# 2 everything ran but a target was missed.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
CONFITURE=${CONFITURE:-$REPO/target/release/confiture}
BUILD=${BUILD:-0}
MIGRA_VENV=${MIGRA_VENV:-/opt/migra}
MIGRA=$MIGRA_VENV/bin/migra
ONLY=${ONLY:-introspect,diff,migra,check}
ROUNDS=${ROUNDS:-10}
MIGRA_ROUNDS=${MIGRA_ROUNDS:-$ROUNDS}
WARMUP=${WARMUP:-1}
TABLES=${TABLES:-1000}
SEED=${SEED:-42}
TARGET_INTROSPECT_MS=${TARGET_INTROSPECT_MS:-500}
TARGET_DIFF_MS=${TARGET_DIFF_MS:-1000}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
KEEP=${KEEP:-0}

die() { echo "run.sh: $*" >&2; exit 1; }
want() { [[ ",$ONLY," == *",$1,"* ]]; }
[[ -x $PG_BIN/initdb ]] || die "PostgreSQL binaries not found in PG_BIN=$PG_BIN"
[[ -f $SCRIPT_DIR/bench.py && -f $SCRIPT_DIR/gen_schema.py ]] || die "bench.py / gen_schema.py not found in $SCRIPT_DIR"

WORK=$(mktemp -d /tmp/confiture-schema-bench.XXXXXX)
PGDIR=""
T0=$(date +%s)

as_pg() {  # run a shell command line as the PostgreSQL OS user
    if [[ $(id -u) == 0 ]]; then
        su postgres -s /bin/bash -c "$1"
    else
        bash -c "$1"
    fi
}

cleanup() {
    local rc=$?
    if [[ -n $PGDIR && -f $PGDIR/data/postmaster.pid ]]; then
        as_pg "'$PG_BIN/pg_ctl' -D '$PGDIR/data' -m fast -w stop" >/dev/null 2>&1 || true
    fi
    if [[ -n $PGDIR ]]; then
        [[ $KEEP == 1 && -f $PGDIR/log ]] && cp "$PGDIR/log" "$WORK/postgres.log" 2>/dev/null
        rm -rf "$PGDIR"
    fi
    if [[ $KEEP == 1 ]]; then
        echo "work directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- the tools
if [[ $BUILD == 1 || ! -x $CONFITURE ]]; then
    if [[ $CONFITURE == "$REPO/target/release/confiture" ]]; then
        echo "== cargo build --release -p confiture"
        (cd "$REPO" && cargo build --release -p confiture) || die "cargo build failed"
    else
        die "CONFITURE=$CONFITURE is not an executable"
    fi
fi
if [[ $CONFITURE == "$REPO/target/release/confiture" ]]; then
    REV=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
    [[ -n $(cd "$REPO" && git status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null) ]] && REV+=" + uncommitted changes"
    if [[ -n $(find "$REPO/crates" "$REPO/Cargo.lock" -newer "$CONFITURE" \( -name '*.rs' -o -name 'Cargo.*' \) -not -path '*/tests/*' -print -quit 2>/dev/null) ]]; then
        echo "   WARNING: sources are newer than the binary: BUILD=1 rebuilds it first" >&2
    fi
else
    REV="not this tree's build (CONFITURE=$CONFITURE)"
fi
echo "== $("$CONFITURE" --version) ($CONFITURE, built $(date -r "$CONFITURE" '+%Y-%m-%d %H:%M:%S'); source: $REV)"
if want migra || want check; then
    if [[ ! -x $MIGRA ]]; then
        echo "== $MIGRA missing: creating $MIGRA_VENV and installing migra"
        python3 -m venv "$MIGRA_VENV" || die "python3 -m venv $MIGRA_VENV failed"
        "$MIGRA_VENV/bin/pip" install --quiet migra psycopg2-binary 'sqlalchemy<2.1' || die "pip install migra failed"
    fi
    echo "   migra: $("$MIGRA_VENV/bin/pip" list 2>/dev/null | awk '$1 ~ /^(migra|schemainspect|sqlbag|SQLAlchemy|psycopg2-binary)$/ {printf "%s %s, ", $1, $2}')$("$MIGRA_VENV/bin/python" --version)"
fi

# ---------------------------------------------------------------- the server
PGDIR=$(mktemp -d /tmp/confiture-schema-bench-pg.XXXXXX)
chmod 755 "$PGDIR"
[[ $(id -u) == 0 ]] && chown postgres "$PGDIR"
PGPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "== starting PostgreSQL ($PG_BIN) on 127.0.0.1:$PGPORT, data in $PGDIR (default settings)"
as_pg "'$PG_BIN/initdb' -D '$PGDIR/data' -A trust -U postgres" >"$WORK/initdb.log" 2>&1 \
    || { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
as_pg "'$PG_BIN/pg_ctl' -D '$PGDIR/data' -w -o \"-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1\" -l '$PGDIR/log' start" \
    >/dev/null || { cat "$PGDIR/log" >&2; die "pg_ctl start failed"; }
chmod 644 "$PGDIR/log" 2>/dev/null || true
PSQL=("$PG_BIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -X -q -v ON_ERROR_STOP=1)
SERVER=$("${PSQL[@]}" -At -d postgres -c "SELECT 'PostgreSQL ' || current_setting('server_version') || '; ' || string_agg(name || '=' || current_setting(name), ' ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'shared_buffers', 'work_mem', 'jit')") \
    || die "cannot query the new server"
echo "   $SERVER"
echo "   $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GB RAM", $2 / 1048576}' /proc/meminfo)"

# ---------------------------------------------------------------- the databases
echo "== generating schemas A and B ($TABLES tables, seed $SEED)"
python3 "$SCRIPT_DIR/gen_schema.py" "$WORK" --tables "$TABLES" --seed "$SEED" | sed 's/^/   /' || die "gen_schema.py failed"
echo "   B differs from A by $(wc -l <"$WORK/changes.txt") changes: $(sed -E 's/^([a-zA-Z ]+)(:| \().*/\1/; s/ +$//' "$WORK/changes.txt" | sort | uniq -c | sort -rn | awk '{c=$1; $1=""; printf "%s%s x%s", (NR>1?", ":""), substr($0,2), c}')"
for db in a b; do
    t=$(date +%s.%N)
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE bench_$db" || die "createdb bench_$db failed"
    "${PSQL[@]}" -d "bench_$db" -1 -f "$WORK/$db.sql" >"$WORK/load_$db.log" 2>&1 || { cat "$WORK/load_$db.log" >&2; die "loading $db.sql failed"; }
    "${PSQL[@]}" -d "bench_$db" -c "VACUUM ANALYZE" || die "VACUUM ANALYZE bench_$db failed"
    echo "   loaded bench_$db ($(wc -c <"$WORK/$db.sql") bytes of DDL) in $(python3 -c "import time; print(f'{time.time() - $t:.1f}')") s, then VACUUM ANALYZE"
done
PROJ=$WORK/proj
"$CONFITURE" init "$PROJ" >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log" >&2; die "confiture init failed"; }

# ---------------------------------------------------------------- measurements + report
set +e
python3 "$SCRIPT_DIR/bench.py" --confiture "$CONFITURE" --migra "$MIGRA" --project "$PROJ" \
    --pg-bin "$PG_BIN" --port "$PGPORT" --pg-log "$PGDIR/log" --work "$WORK" \
    --rounds "$ROUNDS" --warmup "$WARMUP" --migra-rounds "$MIGRA_ROUNDS" --only "$ONLY" \
    --target-introspect-ms "$TARGET_INTROSPECT_MS" --target-diff-ms "$TARGET_DIFF_MS"
status=$?
set -e
echo
echo "server: $SERVER; $(nproc) CPUs; $TABLES tables, seed $SEED; $(( $(date +%s) - T0 )) s in all"
[[ $status == 0 || $status == 2 ]] || exit 1
exit $status
