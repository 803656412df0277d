#!/usr/bin/env bash
# The whole test suite against a real PostgreSQL that the harness starts itself.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --workspace --locked "$@"
