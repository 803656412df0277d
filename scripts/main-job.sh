#!/usr/bin/env bash
# Confiture's main job on its embedded default: create an example project, start the
# project's own PostgreSQL (from this machine's binaries), check everything with doctor, and
# build the example schema (with its seeds) into the embedded database, then apply the example
# project's migrations.
# The example lives in target/example-project; its cluster keeps running afterwards
# (stop it with: target/debug/confiture -C target/example-project db stop).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --locked --bin confiture
bin="$PWD/target/debug/confiture"
demo="${CONFITURE_EXAMPLE_DIR:-$PWD/target/example-project}"

if [ -d "$demo" ]; then
  "$bin" -C "$demo" db stop -q || true
  rm -rf "$demo"
fi
"$bin" init "$demo"
"$bin" -C "$demo" db start
"$bin" -C "$demo" doctor
"$bin" -C "$demo" build --order dependencies --apply --recreate
"$bin" -C "$demo" migrate up --dry-run
"$bin" -C "$demo" migrate up
"$bin" -C "$demo" migrate status
echo
echo "Example project: $demo"
echo "Its database:    $("$bin" -C "$demo" db url)"
echo "Built schema:    $demo/db/generated/schema_local.sql"
