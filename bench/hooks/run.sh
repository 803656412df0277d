#!/usr/bin/env bash
# Benchmark migration hooks and the executed dry-run of `confiture migrate up`:
#
#   bash bench/hooks/run.sh
#
# 1. Hook overhead: one migration (CREATE TABLE t_1 (id int)) without hooks, with five
#    `sql: SELECT 1` hooks (one per phase) and with a mix of 3 sql + 2 analyze hooks; wall time
#    of `confiture migrate up --format json` (process start to exit), `migrate down` (untimed)
#    after every run; HOOK_ROUNDS rounds, the variants in rotating order. Also the migration's
#    own time from the report (applied[].duration_ms). Target: sql5 / plain <= TARGET_HOOKS.
# 2. Dry-run overhead: a migration on a table of ROWS rows (UPDATE big SET v = v + 1; ALTER
#    TABLE big ADD COLUMN c int DEFAULT 0; CREATE INDEX big_v_idx ON big (v)); wall time of
#    `migrate up --dry-run --format json` vs `migrate up --format json`. Each run, dry or real,
#    starts on a fresh copy of one template database (CREATE DATABASE ... TEMPLATE, then
#    CHECKPOINT; untimed), in which the table was loaded by confiture and VACUUM (FREEZE,
#    ANALYZE)d: so no run sees the dead tuples of an earlier one (a rolled-back UPDATE leaves
#    ROWS dead row versions; a real run + `migrate down` leaves 2 x ROWS plus a dropped column).
#    BIG_ROUNDS rounds, each one dry-run and one real run, in alternating order.
#    Target: median(dry) <= TARGET_DRY_RATIO x median(real) + TARGET_DRY_MS.
# 3. Estimate accuracy: the dry-run's estimate.ms vs the same round's real applied[].duration_ms
#    (and wall time). Target: median error within +-TARGET_ESTIMATE.
#    Informational: FLOW_ROUNDS rounds of what a user does -- dry-run then migrate up on the same
#    database, at once or after VACUUM big + CHECKPOINT.
#
# Environment:
#   CONFITURE     our binary (default: REPO/target/release/confiture, built with
#                 `cargo build --release -p confiture` when missing, or always with BUILD=1;
#                 a warning is printed when sources under crates/ are newer than it)
#   ONLY          hooks,dryrun (default both)
#   HOOK_ROUNDS   timed rounds of 1. (default 100); HOOK_WARMUP untimed rounds first (default 3)
#   BIG_ROUNDS    timed rounds of 2./3. (default 20); BIG_WARMUP untimed first (default 1)
#   FLOW_ROUNDS   rounds of the user-flow measurement (default 3; 0 to skip)
#   ROWS          rows of the big table (default 1000000)
#   TARGET_HOOKS (1.1) TARGET_DRY_RATIO (1.05) TARGET_DRY_MS (50) TARGET_ESTIMATE (0.15)
#   PG_BIN        PostgreSQL 15 binaries (default /usr/lib/postgresql/15/bin)
#   KEEP=1        keep the work directory (projects, results.json, server log)
#
# Exit status: 0 everything ran and every target is met; 1 a command (or the setup) failed --
# its stderr is printed; 2 everything ran but a target was missed.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
CONFITURE=${CONFITURE:-$REPO/target/release/confiture}
BUILD=${BUILD:-0}
ONLY=${ONLY:-hooks,dryrun}
HOOK_ROUNDS=${HOOK_ROUNDS:-100}
HOOK_WARMUP=${HOOK_WARMUP:-3}
BIG_ROUNDS=${BIG_ROUNDS:-20}
BIG_WARMUP=${BIG_WARMUP:-1}
FLOW_ROUNDS=${FLOW_ROUNDS:-3}
ROWS=${ROWS:-1000000}
TARGET_HOOKS=${TARGET_HOOKS:-1.1}
TARGET_DRY_RATIO=${TARGET_DRY_RATIO:-1.05}
TARGET_DRY_MS=${TARGET_DRY_MS:-50}
TARGET_ESTIMATE=${TARGET_ESTIMATE:-0.15}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
KEEP=${KEEP:-0}

die() { echo "run.sh: $*" >&2; exit 1; }
[[ -x $PG_BIN/initdb ]] || die "PostgreSQL binaries not found in PG_BIN=$PG_BIN"
[[ -f $SCRIPT_DIR/bench.py ]] || die "$SCRIPT_DIR/bench.py not found"

WORK=$(mktemp -d /tmp/confiture-hooks-bench.XXXXXX)
PGDIR=""

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

# ---------------------------------------------------------------- the binary
if [[ $BUILD == 1 || ! -x $CONFITURE ]]; then
    if [[ $CONFITURE == "$REPO/target/release/confiture" ]]; then
        echo "== cargo build --release -p confiture"
        (cd "$REPO" && cargo build --release -p confiture) || die "cargo build failed"
    else
        die "CONFITURE=$CONFITURE is not an executable"
    fi
fi
REV=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -n $(cd "$REPO" && git status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null) ]] && REV+=" + uncommitted changes"
echo "== $("$CONFITURE" --version) ($CONFITURE, built $(date -r "$CONFITURE" '+%Y-%m-%d %H:%M:%S'); source: $REV)"
if [[ -n $(find "$REPO/crates" "$REPO/Cargo.lock" -newer "$CONFITURE" \( -name '*.rs' -o -name 'Cargo.*' \) -print -quit 2>/dev/null) ]]; then
    echo "   WARNING: sources are newer than the binary: BUILD=1 rebuilds it first" >&2
fi

# ---------------------------------------------------------------- the server
PGDIR=$(mktemp -d /tmp/confiture-hooks-bench-pg.XXXXXX)
chmod 755 "$PGDIR"
[[ $(id -u) == 0 ]] && chown postgres "$PGDIR"
PGPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "== starting PostgreSQL ($PG_BIN) on 127.0.0.1:$PGPORT, data in $PGDIR (fsync=on, default durability)"
as_pg "'$PG_BIN/initdb' -D '$PGDIR/data' -A trust -U postgres" >"$WORK/initdb.log" 2>&1 \
    || { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
as_pg "'$PG_BIN/pg_ctl' -D '$PGDIR/data' -w -o \"-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=on\" -l '$PGDIR/log' start" \
    >/dev/null || { cat "$PGDIR/log" >&2; die "pg_ctl start failed"; }
SERVER=$("$PG_BIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -X -At -d postgres -c "SELECT 'PostgreSQL ' || current_setting('server_version') || '; ' || string_agg(name || '=' || current_setting(name), ' ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'max_wal_size', 'maintenance_work_mem', 'wal_buffers')") \
    || die "cannot query the new server"
echo "   $SERVER"
echo "   $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GB RAM", $2 / 1048576}' /proc/meminfo)"

# ---------------------------------------------------------------- measurements + report
set +e
python3 "$SCRIPT_DIR/bench.py" --confiture "$CONFITURE" --pg-bin "$PG_BIN" --port "$PGPORT" --work "$WORK" \
    --only "$ONLY" --hook-rounds "$HOOK_ROUNDS" --hook-warmup "$HOOK_WARMUP" \
    --big-rounds "$BIG_ROUNDS" --big-warmup "$BIG_WARMUP" --flow-rounds "$FLOW_ROUNDS" --rows "$ROWS" \
    --target-hooks "$TARGET_HOOKS" --target-dry-ratio "$TARGET_DRY_RATIO" --target-dry-ms "$TARGET_DRY_MS" \
    --target-estimate "$TARGET_ESTIMATE"
status=$?
set -e
echo
echo "server: $SERVER; $(nproc) CPUs"
[[ $status == 0 || $status == 2 ]] || exit 1
exit $status
