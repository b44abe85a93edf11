#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster: initdb into a temp folder, start it on a free port, export
# TEST_DATABASE_URL (and DATABASE_URL for commands that want it), run the command, stop the cluster and delete it.
# Uses Debian's postgresql package (/usr/lib/postgresql/*/bin); as root, the server runs as the postgres user.
# With TEST_DATABASE_URL already set, the command runs against that server instead.
set -euo pipefail
if [ -n "${TEST_DATABASE_URL:-}" ]; then exec "$@"; fi

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "with-postgres: PostgreSQL's server programs are not installed (Debian: apt-get install -y postgresql)" >&2
  exit 1
fi
dir=$(mktemp -d /tmp/cc-pg.XXXXXX)
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
as_pg() { if [ "$(id -u)" = "0" ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
[ "$(id -u)" = "0" ] && chown postgres "$dir"
cleanup() {
  as_pg "$bin/pg_ctl -D $dir/data stop -m immediate" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
as_pg "$bin/initdb -D $dir/data -A trust -U postgres >/dev/null"
# A test server: durability off (fsync) for speed, many connections for parallel test files.
as_pg "$bin/pg_ctl -D $dir/data -o \"-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400\" -l $dir/log start -w" >/dev/null
export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
export PG_TEST_BIN="$bin" PG_TEST_DATA="$dir/data" PG_TEST_PORT="$port" PG_TEST_SOCKETS="$dir"
echo "with-postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on port $port"
"$@"
