#!/usr/bin/env bash
# A private PostgreSQL server on loopback for the shared-store tests (Debian's postgresql package).
#   scripts/postgres.sh start     initialise (first time) and start it; prints `export …` lines for the tests
#   scripts/postgres.sh restart   restart it (the reconnect test calls this while a TUI is running)
#   scripts/postgres.sh stop      (the outage test stops and starts it)
# The cluster lives in $FRACVIEW_PG_DIR (default /tmp/fracview-pg-$port) and is reused, so a second run is quick.
# It runs as the OS user postgres when called as root, listens on 127.0.0.1 only, and asks for a password
# (scram-sha-256) over TCP: the tests connect the way a team's workstation would.
set -euo pipefail
# The server outlives this script: it must not inherit the caller's descriptors (a test's pipes or ptys).
for fd in /proc/$$/fd/*; do n=${fd##*/}; if [ "$n" -gt 2 ] 2>/dev/null; then eval "exec $n>&-" 2>/dev/null || true; fi; done
port=${FRACVIEW_PG_PORT:-55432}
dir=${FRACVIEW_PG_DIR:-/tmp/fracview-pg-$port}
password=fracview-test-only
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$bin" ] || { echo "postgres.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  if [ ! -s "$dir/PG_VERSION" ]; then
    rm -rf "$dir"; mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    printf '%s\n' "$password" >"$dir.pw"; chmod 644 "$dir.pw"
    as_owner "$bin/initdb" -D "$dir" -U postgres --auth-local=trust --auth-host=scram-sha-256 --pwfile="$dir.pw" \
      -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$dir.pw"
  fi
  if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
    # A server killed with the session that started it leaves its postmaster.pid; a PID reused since by another
    # process would make PostgreSQL refuse to start. Remove it when no postgres process owns it.
    if [ -f "$dir/postmaster.pid" ]; then
      pid=$(head -n 1 "$dir/postmaster.pid")
      state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true) # Z: killed, not yet reaped
      if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != postgres ] || [ "$state" = Z ]; then rm -f "$dir/postmaster.pid" "$dir/.s.PGSQL.$port.lock"; fi
    fi
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=on" start >/dev/null
  fi
  # The tests' role: may create a fresh database per test.
  as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -qtA -v ON_ERROR_STOP=1 >/dev/null <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fracview') THEN
    CREATE ROLE fracview LOGIN CREATEDB PASSWORD '$password';
  END IF;
END \$\$;
SQL
  if ! as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -qtA -c \
       "SELECT 1 FROM pg_database WHERE datname = 'fracview'" | grep -q 1; then
    as_owner "$bin/createdb" -h "$dir" -p "$port" -U postgres -O fracview fracview
  fi
  echo "export FRACVIEW_TEST_PG_URL='postgres://fracview:$password@127.0.0.1:$port/fracview'"
  echo "export FRACVIEW_TEST_PG_RESTART='bash $(cd "$(dirname "$0")" && pwd)/postgres.sh restart'"
  echo "export FRACVIEW_TEST_PG_CTL='bash $(cd "$(dirname "$0")" && pwd)/postgres.sh'"
}

case "${1:-start}" in
  start) start ;;
  restart) as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 30 -m fast restart \
             -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" >/dev/null ;;
  stop) as_owner "$bin/pg_ctl" -D "$dir" -w -m fast stop >/dev/null ;;
  *) echo "usage: $0 start|restart|stop" >&2; exit 2 ;;
esac
