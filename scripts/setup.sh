#!/usr/bin/env bash
# Install what Confiture needs to build and test on a fresh Debian machine. Idempotent: only
# missing pieces are installed. Needs root (or sudo) only when something is missing.
set -euo pipefail

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "setup: need root to run: $*" >&2; exit 1; fi
}

packages=()
# PostgreSQL server binaries: the embedded cluster and the test harness run them.
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && ! command -v initdb >/dev/null \
   && [ -z "${CONFITURE_PG_BIN:-}" ]; then
  packages+=(postgresql)
fi
# psql is used by benchmarks and handy for people.
command -v psql >/dev/null || packages+=(postgresql-client)
# libclang: bindgen needs it to build the PostgreSQL grammar crate (pg_query).
# (libclang-cpp, which some images ship alone, is not libclang: match libclang.so / libclang-N.so.)
if ! compgen -G "/usr/lib/llvm-*/lib/libclang.so*" >/dev/null \
   && ! compgen -G "/usr/lib/*/libclang-[0-9]*.so*" >/dev/null \
   && ! compgen -G "/usr/lib/*/libclang.so*" >/dev/null; then
  packages+=(libclang-dev)
fi
# A browser: the HTML lint report's test opens the report in headless Chromium.
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null \
   && ! command -v google-chrome >/dev/null; then
  packages+=(chromium)
fi
if [ ${#packages[@]} -gt 0 ]; then
  echo "setup: installing ${packages[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
fi

# initdb refuses root: as root, the cluster runs as this unprivileged user.
if [ "$(id -u)" = 0 ] && ! id "${CONFITURE_PG_OS_USER:-postgres}" >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/postgresql --shell /bin/sh "${CONFITURE_PG_OS_USER:-postgres}"
fi

if command -v rustup >/dev/null; then
  for c in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c" >/dev/null
  done
fi
