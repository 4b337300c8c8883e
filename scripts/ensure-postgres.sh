#!/usr/bin/env bash
# Makes sure PostgreSQL answers on 127.0.0.1:5432: starts a stopped cluster, installs Debian's
# server where none is installed. With --check, only tells (exit 0 = reachable).
set -uo pipefail
HOST=127.0.0.1
PORT=5432

reachable() { pg_isready -q -h "$HOST" -p "$PORT" 2>/dev/null || (exec 3<>/dev/tcp/$HOST/$PORT) 2>/dev/null; }

if [ "${1:-}" = "--check" ]; then
  reachable
  exit $?
fi
reachable && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  echo "PostgreSQL server not installed: installing Debian's."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql
fi
version=$(ls /etc/postgresql | sort -V | tail -n 1)
conf=/etc/postgresql/$version/main
# Local trust auth over TCP for the test user, as on the development machines.
if ! $SUDO grep -q "fangkong-test" "$conf/pg_hba.conf" 2>/dev/null; then
  $SUDO sed -i '1i host all all 127.0.0.1/32 trust # fangkong-test\nhost all all ::1/128 trust # fangkong-test' "$conf/pg_hba.conf" || true
fi
echo "Starting PostgreSQL $version"
$SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || $SUDO pg_ctlcluster "$version" main start || true
for _ in $(seq 1 30); do
  reachable && exit 0
  sleep 1
done
echo "PostgreSQL did not come up on $HOST:$PORT" >&2
exit 1
