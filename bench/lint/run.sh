#!/usr/bin/env bash
# Benchmark `confiture lint`, in one command:
#
#   bash bench/lint/run.sh
#
# Three measurements, timed by bench/lint/bench.py in the same rounds (each round runs every
# command once, the order rotating; medians reported; wall time = fork/exec to exit):
#
#   static      confiture -C TREE lint --format json                        target <= 300 ms
#               TREE = bench/build/gen_tree.py --files 1256 (the `confiture build` benchmark's
#               multi-tenant tree: 1,072 DDL files + 184 seed files, which lint leaves out).
#               Every statement is parsed and the static model built; all default rules run.
#               Also printed: the report's duration_ms (the in-process part).
#   live        confiture -C LIVE lint --live --database-url URL --format json, and
#               confiture -C LIVE introspect --database-url URL --format json on the same
#               database: lint - introspect is the time after the catalog is read  target <= 300 ms
#               LIVE = gen_tree.py --files 3364 (1,000 tables), applied with
#               `confiture build --apply` to a throwaway PostgreSQL 15 server (as the postgres
#               OS user), then VACUUM ANALYZE.
#   migrations  confiture -C MIG lint --migrations --format json, and
#               squawk --reporter json FILES on the same files (squawk exits 1 on findings:
#               accepted); statements per second of each, and their ratio   target >= 3x
#               MIG = bench/lint/gen_migrations.py --files 1000 (10,635 statements).
#
# Environment:
#   CONFITURE     our binary (default REPO/target/release/confiture, built with
#                 `cargo build --release -p confiture` when missing, or always with BUILD=1)
#   SQUAWK_VENV   venv of squawk (default /opt/squawk; created with `pip install squawk-cli`
#                 when bin/squawk is missing)
#   ONLY          static,live,migrations (default: all three)
#   ROUNDS        timed rounds (default 10); WARMUP (default 1)
#   FILES (1256) LIVE_FILES (3364) MIG_FILES (1000) SEED (42)
#   TARGET_STATIC_MS (300) TARGET_LIVE_MS (300) TARGET_RATIO (3)
#   PG_BIN        PostgreSQL 15 binaries (default /usr/lib/postgresql/15/bin)
#   KEEP=1        keep the work directory (trees, reports, results.json, server log)
#
# Exit status: 0 everything ran and every target is met; 1 a command (or the setup) failed;
# 2 everything ran but a target was missed.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
CONFITURE=${CONFITURE:-$REPO/target/release/confiture}
BUILD=${BUILD:-0}
SQUAWK_VENV=${SQUAWK_VENV:-/opt/squawk}
SQUAWK=$SQUAWK_VENV/bin/squawk
ONLY=${ONLY:-static,live,migrations}
ROUNDS=${ROUNDS:-10}
WARMUP=${WARMUP:-1}
FILES=${FILES:-1256}
LIVE_FILES=${LIVE_FILES:-3364}
MIG_FILES=${MIG_FILES:-1000}
SEED=${SEED:-42}
TARGET_STATIC_MS=${TARGET_STATIC_MS:-300}
TARGET_LIVE_MS=${TARGET_LIVE_MS:-300}
TARGET_RATIO=${TARGET_RATIO:-3}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
KEEP=${KEEP:-0}

die() { echo "run.sh: $*" >&2; exit 1; }
want() { [[ ",$ONLY," == *",$1,"* ]]; }
for m in ${ONLY//,/ }; do
    case $m in static|live|migrations) ;; *) die "unknown measurement '$m' in ONLY (static,live,migrations)";; esac
done

WORK=$(mktemp -d /tmp/confiture-lint-bench.XXXXXX)
PGDIR=""
T0=$(date +%s)

as_pg() {  # run a shell command line as the PostgreSQL OS user
    if [[ $(id -u) == 0 ]]; then su postgres -s /bin/bash -c "$1"; else bash -c "$1"; fi
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
    if [[ $KEEP == 1 ]]; then echo "work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- the tools
if [[ $BUILD == 1 || ! -x $CONFITURE ]]; then
    [[ $CONFITURE == "$REPO/target/release/confiture" ]] || die "CONFITURE=$CONFITURE is not an executable"
    echo "== cargo build --release -p confiture"
    (cd "$REPO" && cargo build --release -p confiture) || die "cargo build failed"
fi
REV=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -n $(cd "$REPO" && git status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null) ]] && REV+=" + uncommitted changes"
if [[ -n $(find "$REPO/crates" "$REPO/Cargo.lock" -newer "$CONFITURE" \( -name '*.rs' -o -name 'Cargo.*' \) -not -path '*/tests/*' -print -quit 2>/dev/null) ]]; then
    echo "   WARNING: sources are newer than the binary: BUILD=1 rebuilds it first" >&2
fi
echo "== $("$CONFITURE" --version) ($CONFITURE, built $(date -r "$CONFITURE" '+%Y-%m-%d %H:%M:%S'); source: $REV)"
echo "   $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GB RAM", $2 / 1048576}' /proc/meminfo), $(cut -d' ' -f1-3 /proc/loadavg) load"
if want migrations; then
    if [[ ! -x $SQUAWK ]]; then
        echo "== $SQUAWK missing: creating $SQUAWK_VENV and installing squawk-cli"
        python3 -m venv "$SQUAWK_VENV" || die "python3 -m venv $SQUAWK_VENV failed"
        "$SQUAWK_VENV/bin/pip" install --quiet squawk-cli || die "pip install squawk-cli failed"
    fi
    echo "   $("$SQUAWK" --version)"
fi

ARGS=(--confiture "$CONFITURE" --work "$WORK" --rounds "$ROUNDS" --warmup "$WARMUP"
      --target-static-ms "$TARGET_STATIC_MS" --target-live-ms "$TARGET_LIVE_MS" --target-ratio "$TARGET_RATIO")

# ---------------------------------------------------------------- static: the DDL tree
if want static; then
    echo "== generating the DDL tree (bench/build/gen_tree.py --files $FILES --seed $SEED)"
    python3 "$REPO/bench/build/gen_tree.py" "$WORK/static" --files "$FILES" --seed "$SEED" >/dev/null || die "gen_tree.py failed"
    echo "   $(find "$WORK/static/db" -name '*.sql' | wc -l) files, $(cat $(find "$WORK/static/db" -name '*.sql') | wc -c) bytes"
    ARGS+=(--tree "$WORK/static")
fi

# ---------------------------------------------------------------- live: a database of 1,000 tables
if want live; then
    [[ -x $PG_BIN/initdb ]] || die "PostgreSQL binaries not found in PG_BIN=$PG_BIN"
    PGDIR=$(mktemp -d /tmp/confiture-lint-bench-pg.XXXXXX)
    chmod 755 "$PGDIR"
    [[ $(id -u) == 0 ]] && chown postgres "$PGDIR"
    PGPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    echo "== starting PostgreSQL ($PG_BIN) on 127.0.0.1:$PGPORT (default settings)"
    as_pg "'$PG_BIN/initdb' -D '$PGDIR/data' -A trust -U postgres" >"$WORK/initdb.log" 2>&1 \
        || { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
    as_pg "'$PG_BIN/pg_ctl' -D '$PGDIR/data' -w -o \"-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1\" -l '$PGDIR/log' start" \
        >/dev/null || { cat "$PGDIR/log" >&2; die "pg_ctl start failed"; }
    PSQL=("$PG_BIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -X -q -v ON_ERROR_STOP=1)
    URL="postgresql://postgres@127.0.0.1:$PGPORT/bench_lint"
    echo "== generating the live tree (gen_tree.py --files $LIVE_FILES --seed $SEED) and applying it"
    python3 "$REPO/bench/build/gen_tree.py" "$WORK/live" --files "$LIVE_FILES" --seed "$SEED" >/dev/null || die "gen_tree.py failed"
    t=$(date +%s.%N)
    "$CONFITURE" -C "$WORK/live" build --apply --database-url "$URL" >"$WORK/apply.log" 2>&1 \
        || { cat "$WORK/apply.log" >&2; die "confiture build --apply failed"; }
    "${PSQL[@]}" -d bench_lint -c "VACUUM ANALYZE" || die "VACUUM ANALYZE failed"
    echo "   bench_lint: $("${PSQL[@]}" -At -d bench_lint -c "SELECT count(*) FILTER (WHERE c.relkind IN ('r', 'p')) || ' tables, ' || count(*) FILTER (WHERE c.relkind = 'i') || ' indexes, ' || count(*) FILTER (WHERE c.relkind IN ('v', 'm')) || ' views' FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"), $("${PSQL[@]}" -At -d bench_lint -c "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')") functions; built in $(python3 -c "import time; print(f'{time.time() - $t:.1f}')") s"
    ARGS+=(--live-tree "$WORK/live" --url "$URL")
fi

# ---------------------------------------------------------------- migrations vs squawk
if want migrations; then
    echo "== generating migrations (bench/lint/gen_migrations.py --files $MIG_FILES --seed $SEED)"
    STATS=$(python3 "$SCRIPT_DIR/gen_migrations.py" "$WORK/mig" --files "$MIG_FILES" --seed "$SEED") || die "gen_migrations.py failed"
    STATEMENTS=$(python3 -c "import json, sys; print(json.loads(sys.argv[1])['statements'])" "$STATS")
    echo "   $(python3 -c "import json, sys; d = json.loads(sys.argv[1]); print(f\"{d['files']} files, {d['statements']} statements, {d['bytes']} bytes, {len(d['kinds'])} kinds\")" "$STATS")"
    ARGS+=(--migrations "$WORK/mig" --statements "$STATEMENTS" --squawk "$SQUAWK")
fi

set +e
python3 "$SCRIPT_DIR/bench.py" "${ARGS[@]}"
status=$?
set -e
echo
echo "$(( $(date +%s) - T0 )) s in all"
[[ $status == 0 || $status == 2 ]] || exit 1
exit $status
