#!/usr/bin/env bash
# Benchmark `confiture sync` (issue 8) against `psql \copy | psql \copy` and against the Python
# tool (fraiseql-confiture), in the same run:
#
#   bash bench/sync/run.sh
#
# Databases (loaded untimed on a throwaway PostgreSQL 15 server, by schema.sql + gen.sql):
# src.users = ROWS rows (id bigint PRIMARY KEY, tenant_id, email, phone, first_name, last_name,
# ssn, created_at; deterministic, realistic values), dst.users the same table empty (primary key
# included); src_big/dst_big the same with BIG_ROWS rows; src_two/dst_two with two tables
# (users, customers) of ROWS/2 rows each; src_py/dst_py with PY_ROWS rows when PY_ROWS != ROWS.
# Before every timed run (untimed): TRUNCATE of the target table(s), then CHECKPOINT. After it
# (untimed): the row count, the kept columns equal to the source's, the anonymized ones changed.
#
# 1. Throughput: WARMUP + ROUNDS rounds, each running, in rotating order,
#      pipeline       psql -d src -c '\copy users to stdout' | psql -d dst -c '\copy users from stdin'
#      deterministic  confiture sync --profile det.yaml (salt: ${ANON_SALT}; email, phone, first_name)
#      random         confiture sync --profile random.yaml (the same rules, no salt)
#      plain          confiture sync --profile plain.yaml (every rule `none`: byte forwarding; informational)
#    Target: median(pipeline) / median(deterministic) >= TARGET_THROUGHPUT.
# 2. Deterministic vs random: median(deterministic) / median(random) <= TARGET_DET.
# 3. Peak memory: /usr/bin/time -f %M (peak RSS) of every confiture run, at ROWS and at BIG_ROWS
#    (BIG_ROUNDS rounds of the pipeline and deterministic confiture on src_big). Target: the
#    largest <= TARGET_MEM_MB.
# 4. vs fraiseql-confiture: PY_ROUNDS rounds, each `/opt/pyconf/bin/confiture sync --anonymize
#    --anonymization-config anon.yaml` (email, phone, name; ANONYMIZATION_SECRET set) and
#    deterministic confiture, alternating, on PY_ROWS rows. Ratio, no target.
# 5. -j 1 vs -j 2 on src_two (two tables): JOBS_ROUNDS rounds, alternating. Informational.
# 6. CPU per strategy: COST_ROUNDS rounds of confiture on src with no anonymized column and with
#    each of the three columns alone (profiles written into the work directory); the confiture
#    process's CPU seconds (/usr/bin/time %U + %S) above the no-column run. Informational.
#
# Environment:
#   CONFITURE     our binary (default: REPO/target/release/confiture, built with
#                 `cargo build --release -p confiture` when missing, or always with BUILD=1;
#                 a warning is printed when sources under crates/ are newer than it)
#   PYCONF        the Python tool (default /opt/pyconf/bin/confiture; installed there with
#                 `pip install fraiseql-confiture` when missing)
#   ONLY          throughput,big,python,jobs,cost (default: all)
#   ROWS (1000000) ROUNDS (7) WARMUP (1)
#   BIG_ROWS (3000000) BIG_ROUNDS (3)        0 rounds skips the part (and its database)
#   PY_ROWS (ROWS) PY_ROUNDS (3)
#   JOBS_ROUNDS (3) COST_ROUNDS (3)
#   TARGET_THROUGHPUT (0.9) TARGET_DET (1.3) TARGET_MEM_MB (100)
#   PG_BIN        PostgreSQL 15 binaries (default /usr/lib/postgresql/15/bin)
#   PGPORT        the server's port (default 5510; a free port is taken when it is in use)
#   PG_SETTINGS   server settings, the same for every run (default below)
#   KEEP=1        keep the work directory (results.json, server log)
#
# Exit status: 0 everything ran and every target is met; 1 a command (or the setup) failed or a
# result was wrong -- its output is printed; 2 everything ran but a target was missed.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
CONFITURE=${CONFITURE:-$REPO/target/release/confiture}
BUILD=${BUILD:-0}
PYCONF=${PYCONF:-/opt/pyconf/bin/confiture}
ONLY=${ONLY:-throughput,big,python,jobs,cost}
ROWS=${ROWS:-1000000}
ROUNDS=${ROUNDS:-7}
WARMUP=${WARMUP:-1}
BIG_ROWS=${BIG_ROWS:-3000000}
BIG_ROUNDS=${BIG_ROUNDS:-3}
PY_ROWS=${PY_ROWS:-$ROWS}
PY_ROUNDS=${PY_ROUNDS:-3}
JOBS_ROUNDS=${JOBS_ROUNDS:-3}
COST_ROUNDS=${COST_ROUNDS:-3}
TARGET_THROUGHPUT=${TARGET_THROUGHPUT:-0.9}
TARGET_DET=${TARGET_DET:-1.3}
TARGET_MEM_MB=${TARGET_MEM_MB:-100}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PGPORT=${PGPORT:-5510}
# Default durability (fsync, synchronous_commit, full_page_writes on); max_wal_size and
# checkpoint_timeout so that no checkpoint falls inside a run (each run is preceded by an
# explicit CHECKPOINT); autovacuum off so that no vacuum of the freshly loaded target overlaps
# the next run.
PG_SETTINGS=${PG_SETTINGS:--c shared_buffers=512MB -c max_wal_size=4GB -c checkpoint_timeout=1h -c autovacuum=off}
KEEP=${KEEP:-0}

die() { echo "run.sh: $*" >&2; exit 1; }
want() { [[ ",$ONLY," == *",$1,"* ]]; }
[[ -x $PG_BIN/initdb ]] || die "PostgreSQL binaries not found in PG_BIN=$PG_BIN"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (apt-get install -y time)"
for f in bench.py schema.sql gen.sql det.yaml random.yaml plain.yaml anon.yaml; do
    [[ -f $SCRIPT_DIR/$f ]] || die "$SCRIPT_DIR/$f not found"
done
want big || BIG_ROUNDS=0
want python || PY_ROUNDS=0
want jobs || JOBS_ROUNDS=0
want throughput || ROUNDS=0
want cost || COST_ROUNDS=0

WORK=$(mktemp -d /tmp/confiture-sync-bench.XXXXXX)
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
if [[ $PY_ROUNDS -gt 0 && ! -x $PYCONF ]]; then
    [[ $PYCONF == /opt/pyconf/bin/confiture ]] || die "PYCONF=$PYCONF is not an executable"
    echo "== $PYCONF missing: creating /opt/pyconf and installing fraiseql-confiture"
    python3 -m venv /opt/pyconf || die "python3 -m venv /opt/pyconf failed"
    /opt/pyconf/bin/pip install --quiet fraiseql-confiture || die "pip install fraiseql-confiture failed"
fi

# ---------------------------------------------------------------- the server
if python3 -c "import socket, sys; s = socket.socket(); s.bind(('127.0.0.1', $PGPORT))" 2>/dev/null \
    && [[ ! -e /tmp/.s.PGSQL.$PGPORT ]]; then
    :
else
    echo "   port $PGPORT is in use: taking a free one"
    PGPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
PGDIR=$(mktemp -d /tmp/confiture-sync-bench-pg.XXXXXX)
chmod 755 "$PGDIR"
[[ $(id -u) == 0 ]] && chown postgres "$PGDIR"
echo "== starting PostgreSQL ($PG_BIN) on 127.0.0.1:$PGPORT, data in $PGDIR: $PG_SETTINGS"
as_pg "'$PG_BIN/initdb' -D '$PGDIR/data' -A trust -U postgres" >"$WORK/initdb.log" 2>&1 \
    || { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
as_pg "'$PG_BIN/pg_ctl' -D '$PGDIR/data' -w -o \"-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1 $PG_SETTINGS\" -l '$PGDIR/log' start" \
    >/dev/null || { cat "$PGDIR/log" >&2; die "pg_ctl start failed"; }
chmod 644 "$PGDIR/log" 2>/dev/null || true
PSQL=("$PG_BIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -X -q -v ON_ERROR_STOP=1)
SERVER=$("${PSQL[@]}" -At -d postgres -c "SELECT 'PostgreSQL ' || current_setting('server_version') || '; ' || string_agg(name || '=' || current_setting(name), ' ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'max_wal_size', 'checkpoint_timeout', 'autovacuum', 'wal_level', 'work_mem', 'maintenance_work_mem')") \
    || die "cannot query the new server"
MACHINE="$(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GB RAM", $2 / 1048576}' /proc/meminfo), $(uname -r)"
echo "   $SERVER"
echo "   $MACHINE; $(cut -d' ' -f1-3 /proc/loadavg | sed 's/^/load average /')"

# ---------------------------------------------------------------- the databases
load_db() {  # load_db SRC DST ROWS TABLE...: SRC.TABLE filled with ROWS rows, DST.TABLE empty
    local src=$1 dst=$2 rows=$3 t; shift 3
    local t0=$(date +%s.%N)
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE $src" -c "CREATE DATABASE $dst" || die "CREATE DATABASE failed"
    for t in "$@"; do
        for db in "$src" "$dst"; do
            "${PSQL[@]}" -d "$db" -v tbl="$t" -v pk="${t}_pkey" -f "$SCRIPT_DIR/schema.sql" || die "schema.sql on $db failed"
        done
        "${PSQL[@]}" -d "$src" -v tbl="$t" -v pk="${t}_pkey" -v rows="$rows" -f "$SCRIPT_DIR/gen.sql" || die "gen.sql on $src failed"
    done
    echo "   $src: $* x $rows rows, $("${PSQL[@]}" -At -d "$src" -c "SELECT pg_size_pretty(pg_database_size(current_database()))"); $dst: the same, empty ($(python3 -c "import time; print(f'{time.time() - $t0:.0f}')") s)"
}
echo "== loading the databases (untimed)"
[[ $ROUNDS -gt 0 || $COST_ROUNDS -gt 0 || $PY_ROUNDS -gt 0 && $PY_ROWS == "$ROWS" ]] && load_db src dst "$ROWS" users
[[ $BIG_ROUNDS -gt 0 ]] && load_db src_big dst_big "$BIG_ROWS" users
PY_SUFFIX=""
if [[ $PY_ROUNDS -gt 0 && $PY_ROWS != "$ROWS" ]]; then
    PY_SUFFIX=_py
    load_db src_py dst_py "$PY_ROWS" users
fi
[[ $JOBS_ROUNDS -gt 0 ]] && load_db src_two dst_two $((ROWS / 2)) users customers
"${PSQL[@]}" -d postgres -c CHECKPOINT
FIRST_SRC=$("${PSQL[@]}" -At -d postgres -c "SELECT datname FROM pg_database WHERE datname LIKE 'src%' ORDER BY oid LIMIT 1")
[[ -n $FIRST_SRC ]] && "${PSQL[@]}" -At -d "$FIRST_SRC" -c "SELECT '   sample row: ' || row_to_json(u)::text FROM users u WHERE id = 1"

# ---------------------------------------------------------------- measurements + report
set +e
python3 "$SCRIPT_DIR/bench.py" --confiture "$CONFITURE" --pyconf "$PYCONF" --pg-bin "$PG_BIN" --port "$PGPORT" \
    --pg-pid "$(head -1 "$PGDIR/data/postmaster.pid")" \
    --work "$WORK" --dir "$SCRIPT_DIR" --only "$ONLY" --rows "$ROWS" --rounds "$ROUNDS" --warmup "$WARMUP" \
    --big-rows "$BIG_ROWS" --big-rounds "$BIG_ROUNDS" --py-rows "$PY_ROWS" --py-db-suffix "$PY_SUFFIX" \
    --py-rounds "$PY_ROUNDS" --jobs-rounds "$JOBS_ROUNDS" --cost-rounds "$COST_ROUNDS" --target-throughput "$TARGET_THROUGHPUT" \
    --target-det "$TARGET_DET" --target-mem-mb "$TARGET_MEM_MB"
status=$?
set -e
echo
echo "server: $SERVER; $MACHINE; $(( $(date +%s) - T0 )) s in all"
[[ $status == 0 || $status == 2 ]] || exit 1
exit $status
