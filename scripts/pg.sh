#!/usr/bin/env bash
# A private PostgreSQL cluster for lstv-node: socket only (no TCP), in a directory of its own.
#
#   scripts/pg.sh start DIR   create (initdb) if needed and start; prints the libpq URL
#   scripts/pg.sh stop DIR    stop (fast shutdown)
#   scripts/pg.sh url DIR     print the libpq URL
#
# PostgreSQL refuses to run as root: when invoked as root the cluster is owned by the system user
# "lstv" (created if missing) and the server runs as that user. Local socket connections use
# "trust" authentication: the socket directory is private to the cluster's owner (and root).
set -euo pipefail

cmd=${1:?usage: pg.sh start|stop|url DIR}
dir=${2:?usage: pg.sh start|stop|url DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data="$dir/data"
run="$dir/run"
log="$dir/postgresql.log"
db_user=lstv
db_name=lstv

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[[ -x "$bindir/initdb" ]] || { echo "pg.sh: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u "$db_user" -- "$@"; else "$@"; fi
}

url() { echo "postgresql://$db_user@/$db_name?host=$run"; }

case "$cmd" in
  url) url ;;
  start)
    if [[ $(id -u) -eq 0 ]]; then
      id "$db_user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$db_user"
      chown "$db_user" "$dir"
      # The server runs as $db_user: every directory above the cluster must be traversable.
      if ! runuser -u "$db_user" -- test -x "$dir"; then
        echo "pg.sh: user $db_user cannot reach $dir (a parent directory is not world-executable)." >&2
        echo "pg.sh: choose another data directory or set database_url to an existing server." >&2
        exit 1
      fi
    fi
    if [[ ! -f "$data/PG_VERSION" ]]; then
      as_owner mkdir -p "$data" "$run"
      as_owner "$bindir/initdb" -D "$data" -U "$db_user" --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
      cat >>"$data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$run'
unix_socket_permissions = 0770
max_connections = 100
shared_buffers = 64MB
CONF
      # Test clusters trade durability of the index (not of the spool) for speed.
      if [[ ${LSTV_PG_FAST:-0} == 1 ]]; then
        printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n' >>"$data/postgresql.conf"
      fi
    fi
    as_owner mkdir -p "$run"
    if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      as_owner "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null \
        || { tail -n 30 "$log" >&2; exit 1; }
    fi
    if ! as_owner "$bindir/psql" -h "$run" -U "$db_user" -d postgres -Atqc "SELECT 1 FROM pg_database WHERE datname='$db_name'" | grep -q 1; then
      as_owner "$bindir/createdb" -h "$run" -U "$db_user" "$db_name"
    fi
    url
    ;;
  stop)
    if [[ -f "$data/PG_VERSION" ]]; then
      as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  *) echo "usage: pg.sh start|stop|url DIR" >&2; exit 2 ;;
esac
