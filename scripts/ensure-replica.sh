#!/usr/bin/env bash
# Makes sure a streaming read replica of the local PostgreSQL (127.0.0.1:5432) answers on 127.0.0.1:5433:
# a second cluster of the same version ("replica", Debian's pg_createcluster), filled by pg_basebackup -R
# through a replication slot, started, streaming. Idempotent: a replica that is up and streaming is left
# alone; a stopped one is started; one that cannot stream (or is not a standby) is rebuilt.
# On the primary it turns on, only where missing: wal_level=replica, max_wal_senders, max_replication_slots
# (these need a restart, done at most once and only if one of them had to change), a cap on the WAL a
# slot may hold (max_slot_wal_keep_size, so a stopped replica cannot fill the disk) and a pg_hba line
# letting 127.0.0.1 connect for replication (a reload).
# With --check, only tells: exit 0 = the replica answers, is in recovery and streams from the primary.
set -uo pipefail
HOST=127.0.0.1
PRIMARY_PORT=5432
REPLICA_PORT=${REPLICA_PORT:-5433}
CLUSTER=replica
SLOT=fangkong_replica
SLOT_WAL_CAP=2GB

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

primary() { psql -X -q -h "$HOST" -p "$PRIMARY_PORT" -U postgres -d postgres -Atc "$1"; }
replica() { psql -X -q -h "$HOST" -p "$REPLICA_PORT" -U postgres -d postgres -Atc "$1" 2>/dev/null; }

streaming() {
  [ "$(replica 'SELECT pg_is_in_recovery()')" = "t" ] || return 1
  [ "$(replica "SELECT status FROM pg_stat_wal_receiver")" = "streaming" ]
}

if [ "${1:-}" = "--check" ]; then
  streaming
  exit $?
fi

bash "$(dirname "$0")/ensure-postgres.sh" || exit 1
streaming && { echo "Replica on $HOST:$REPLICA_PORT is streaming."; exit 0; }

version=$(pg_lsclusters -h | awk -v p="$PRIMARY_PORT" '$3 == p {print $1; exit}')
[ -n "$version" ] || { echo "No local cluster on port $PRIMARY_PORT to replicate" >&2; exit 1; }

# --- the primary ------------------------------------------------------------------------------------------
restart=0
setting() { primary "SELECT setting FROM pg_settings WHERE name = '$1'"; }
if [ "$(setting wal_level)" = "minimal" ]; then
  primary "ALTER SYSTEM SET wal_level = 'replica'" && restart=1
fi
if [ "$(setting max_wal_senders)" -lt 2 ]; then
  primary "ALTER SYSTEM SET max_wal_senders = 10" && restart=1
fi
if [ "$(setting max_replication_slots)" -lt 2 ]; then
  primary "ALTER SYSTEM SET max_replication_slots = 10" && restart=1
fi
if [ "$(setting max_slot_wal_keep_size)" = "-1" ]; then
  primary "ALTER SYSTEM SET max_slot_wal_keep_size = '$SLOT_WAL_CAP'"
fi
hba=$(primary "SHOW hba_file")
if ! $SUDO grep -q "fangkong-replica" "$hba"; then
  $SUDO sed -i '1i host replication all 127.0.0.1/32 trust # fangkong-replica' "$hba"
fi
primary "SELECT pg_reload_conf()" >/dev/null
if [ "$restart" = 1 ]; then
  echo "Restarting the primary (PostgreSQL $version main) once for the replication settings"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main restart || $SUDO pg_ctlcluster "$version" main restart
  bash "$(dirname "$0")/ensure-postgres.sh" || exit 1
fi

# --- the replica ------------------------------------------------------------------------------------------
datadir=/var/lib/postgresql/$version/$CLUSTER
confdir=/etc/postgresql/$version/$CLUSTER

wait_streaming() {
  for _ in $(seq 1 30); do
    streaming && return 0
    sleep 1
  done
  return 1
}

if pg_lsclusters -h | awk -v v="$version" -v c="$CLUSTER" '$1 == v && $2 == c {found=1} END {exit !found}'; then
  if $SUDO test -f "$datadir/standby.signal"; then
    echo "Starting the replica (PostgreSQL $version $CLUSTER)"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" "$CLUSTER" start 2>/dev/null \
      || $SUDO pg_ctlcluster "$version" "$CLUSTER" start 2>/dev/null || true
    wait_streaming && { echo "Replica on $HOST:$REPLICA_PORT is streaming."; exit 0; }
  fi
  echo "The $CLUSTER cluster does not stream: rebuilding it"
  $SUDO pg_dropcluster --stop "$version" "$CLUSTER"
fi

echo "Creating the replica (PostgreSQL $version $CLUSTER on port $REPLICA_PORT)"
$SUDO pg_createcluster "$version" "$CLUSTER" -p "$REPLICA_PORT" >/dev/null || exit 1
# Local trust over TCP, as on the primary (ensure-postgres.sh); read-only queries that wait for replay
# are not cancelled early; the primary keeps the rows they read (feedback).
$SUDO sed -i '1i host all all 127.0.0.1/32 trust # fangkong-test\nhost all all ::1/128 trust # fangkong-test' \
  "$confdir/pg_hba.conf"
printf "listen_addresses = '%s'\nport = %s\nhot_standby = on\nhot_standby_feedback = on\n" "$HOST" "$REPLICA_PORT" \
  | $SUDO tee "$confdir/conf.d/90-fangkong-replica.conf" >/dev/null
$SUDO find "$datadir" -mindepth 1 -delete  # keep the directory pg_createcluster made (owner postgres)
[ "$(primary "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$SLOT' AND NOT active")" = "1" ] \
  && primary "SELECT pg_drop_replication_slot('$SLOT')" >/dev/null
create_slot="-C"
[ "$(primary "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$SLOT'")" = "1" ] && create_slot=""
as_postgres pg_basebackup -h "$HOST" -p "$PRIMARY_PORT" -U postgres -D "$datadir" -R -X stream \
  -S "$SLOT" $create_slot -c fast || { echo "pg_basebackup failed" >&2; exit 1; }
$SUDO chmod 700 "$datadir"
$SUDO pg_ctlcluster --skip-systemctl-redirect "$version" "$CLUSTER" start 2>/dev/null \
  || $SUDO pg_ctlcluster "$version" "$CLUSTER" start || true
if wait_streaming; then
  echo "Replica on $HOST:$REPLICA_PORT is streaming."
  exit 0
fi
echo "The replica did not start streaming on $HOST:$REPLICA_PORT (see /var/log/postgresql/postgresql-$version-$CLUSTER.log)" >&2
exit 1
