#!/usr/bin/env bash
# Makes sure a pgbouncer in transaction mode answers on 127.0.0.1:6432 in front of the PostgreSQL on
# 127.0.0.1:5432 (every database by its own name, trust auth as the test cluster), for the tests that run the
# app through it (fangkong/core/tests/test_pgbouncer.py). Installs Debian's pgbouncer when missing. With
# --check, only tells (exit 0 = reachable).
set -uo pipefail
PORT=6432
DIR=/var/lib/fangkong-pgbouncer
reachable() { (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; }
if [ "${1:-}" = "--check" ]; then
  reachable
  exit $?
fi
reachable && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then
  echo "pgbouncer not installed: installing Debian's."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends pgbouncer
fi
# Debian's package starts its own service on 6432 with its own configuration: ours replaces it.
$SUDO systemctl stop pgbouncer >/dev/null 2>&1 || $SUDO service pgbouncer stop >/dev/null 2>&1 || true
$SUDO mkdir -p "$DIR"
$SUDO tee "$DIR/pgbouncer.ini" >/dev/null <<INI
[databases]
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir =
auth_type = trust
auth_file = $DIR/userlist.txt
admin_users = postgres
pool_mode = transaction
max_client_conn = 400
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,options
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
INI
echo '"postgres" ""' | $SUDO tee "$DIR/userlist.txt" >/dev/null
$SUDO chown -R postgres:postgres "$DIR"
echo "Starting pgbouncer (transaction mode) on 127.0.0.1:$PORT"
if [ "$(id -u)" -eq 0 ]; then
  runuser -u postgres -- /usr/sbin/pgbouncer -d "$DIR/pgbouncer.ini" || true  # it refuses to run as root
else
  sudo -u postgres /usr/sbin/pgbouncer -d "$DIR/pgbouncer.ini" || true
fi
for _ in $(seq 1 20); do reachable && exit 0; sleep 0.25; done
echo "pgbouncer did not start (see $DIR/pgbouncer.log)" >&2
exit 1
