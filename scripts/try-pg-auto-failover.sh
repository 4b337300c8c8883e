#!/usr/bin/env bash
# Tries high availability with pg_auto_failover (Debian's postgresql-15-auto-failover) on this one machine:
# a monitor, a primary and a secondary (synchronous replication), each its own PostgreSQL cluster under a
# scratch directory, run as the postgres user by `pg_autoctl run`. docs/scaling.md, "High availability",
# reports what it measured. An experiment, not part of the deployment: nothing here touches the main cluster
# (5432), the streaming replica (5433) or pgbouncer (6432); the three clusters listen on 127.0.0.1:5440-5442
# (HA_MONITOR_PORT, HA_NODE1_PORT, HA_NODE2_PORT) and the script stops if one of those ports is taken.
#
# What it does, in order:
#   1. installs postgresql-15-auto-failover and pg-auto-failover-cli when missing (exit 3 if it cannot);
#   2. creates and starts the monitor, the primary and the secondary; waits until the formation is healthy
#      (primary + secondary, the standby in synchronous replication);
#   3. starts a writer (python/psycopg) that inserts one numbered row every 50 ms through a multi-host
#      connection string (host=a,b port=x,y target_session_attrs=read-write) and notes every acknowledged
#      commit; it reconnects after an error, so it follows whichever node is primary;
#      beside it, when the python has procrastinate, a procrastinate worker on the same string under a loop
#      that restarts it 2 s after it exits (as systemd does); a job is deferred after each failover and
#      timed until done, and the worker's exits are counted;
#   4. planned failover (`pg_autoctl perform failover`): seconds until the writer commits on the other node;
#   5. kill -9 of the primary's postgres alone: the node's keeper restarts it in place (no failover);
#      seconds until the writer commits again;
#   6. unplanned failover: kill -9 of the whole primary node (its pg_autoctl keeper and its postgres, as if
#      the machine died): seconds until the secondary is promoted and the writer commits on it;
#   7. counts acknowledged rows missing from the new primary (rows_lost; synchronous replication: 0);
#   8. restarts the dead node, which rejoins as secondary (pg_rewind), and the seconds it took;
#   9. shows how a client follows the primary: psycopg with the multi-host string, and Django's settings
#      from dj_database_url (which cannot parse host:port,host:port, but takes host,host with
#      ?port=x,y — the ports pass through OPTIONS to libpq);
#  10. stops everything it started and removes the scratch directory (kept with --keep).
# Last line: one JSON object with the timings.
#
# Usage: scripts/try-pg-auto-failover.sh [--keep] [--fast]      (root, or a user with sudo)
#   --fast: shorter failure detection than pg_auto_failover's defaults (monitor: health checks every 2 s,
#   a node unhealthy after 6 s without news, demote timeout 10 s; keepers: a primary that sees neither
#   monitor nor standby demotes itself after 5 s, which must stay below the demote timeout so that two
#   primaries never accept writes at once).
# Env: HA_DIR (default /var/tmp/fangkong-ha), HA_MONITOR_PORT/HA_NODE1_PORT/HA_NODE2_PORT (5440/5441/5442),
#      HA_PYTHON (a python with psycopg and dj_database_url; default the project's .venv or python3).
set -uo pipefail

KEEP=0
FAST=0
for arg in "$@"; do
  case "$arg" in
    --keep) KEEP=1;;
    --fast) FAST=1;;
    *) echo "usage: $0 [--keep] [--fast]" >&2; exit 2;;
  esac
done
DIR=${HA_DIR:-/var/tmp/fangkong-ha}
MON_PORT=${HA_MONITOR_PORT:-5440}
P1=${HA_NODE1_PORT:-5441}
P2=${HA_NODE2_PORT:-5442}
HOST=127.0.0.1
DB=fkha
PG_VERSION=15
PGBIN=/usr/lib/postgresql/$PG_VERSION/bin
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

log() { echo "[ha $(date +%H:%M:%S)] $*" >&2; }
die() { log "ERROR: $*"; exit "${2:-1}"; }
now() { date +%s.%N; }
secs() { python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))" "$1" "$2"; }

for p in "$MON_PORT" "$P1" "$P2"; do
  case "$p" in 5432|5433|6432) die "port $p belongs to the shared services; pick others";; esac
done

# --- 1. the packages ----------------------------------------------------------------------------------------
if ! command -v pg_autoctl >/dev/null 2>&1 || ! dpkg -s "postgresql-$PG_VERSION-auto-failover" >/dev/null 2>&1; then
  log "installing postgresql-$PG_VERSION-auto-failover and pg-auto-failover-cli"
  if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
      "postgresql-$PG_VERSION-auto-failover" pg-auto-failover-cli >/dev/null 2>&1; then
    $SUDO apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
      "postgresql-$PG_VERSION-auto-failover" pg-auto-failover-cli >/dev/null 2>&1 \
      || die "cannot install postgresql-$PG_VERSION-auto-failover" 3
  fi
fi
[ -x "$PGBIN/pg_ctl" ] || die "PostgreSQL $PG_VERSION server binaries not found in $PGBIN" 3

PY=${HA_PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x "$REPO/.venv/bin/python" ]; then PY=$REPO/.venv/bin/python
  elif [ -x /work/main/.venv/bin/python ]; then PY=/work/main/.venv/bin/python
  else PY=python3; fi
fi
"$PY" -c "import psycopg" 2>/dev/null || die "$PY cannot import psycopg (set HA_PYTHON)" 3

port_taken() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# --- the scratch directory and the processes ----------------------------------------------------------------
as_pg() {
  # pg_autoctl keeps its configuration and state under XDG_CONFIG_HOME / XDG_DATA_HOME: inside the scratch
  # directory, so nothing is left in ~postgres.
  (cd "$DIR" && $SUDO runuser -u postgres -- env PATH="$PGBIN:$PATH" \
     XDG_CONFIG_HOME="$DIR/xdg-config" XDG_DATA_HOME="$DIR/xdg-data" PG_AUTOCTL_DEBUG= "$@")
}
declare -A RUN_PID=()
start_node() {  # name: pg_autoctl run in its own process group (so "the machine dies" is one kill)
  local name=$1
  setsid $SUDO runuser -u postgres -- env PATH="$PGBIN:$PATH" XDG_CONFIG_HOME="$DIR/xdg-config" \
    XDG_DATA_HOME="$DIR/xdg-data" pg_autoctl run --pgdata "$DIR/$name" >>"$DIR/$name.log" 2>&1 < /dev/null &
  RUN_PID[$name]=$!
  disown "$!"
}
postmaster_pid() { $SUDO head -1 "$DIR/$1/postmaster.pid" 2>/dev/null; }
stop_node() {
  local name=$1 pid=${RUN_PID[$1]:-}
  [ -d "$DIR/$name" ] && as_pg pg_autoctl stop --pgdata "$DIR/$name" >/dev/null 2>&1
  if [ -n "$pid" ]; then
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -TERM -- "-$pid" 2>/dev/null
  fi
  local pm
  pm=$(postmaster_pid "$name")
  if [ -n "$pm" ] && kill -0 "$pm" 2>/dev/null; then
    $SUDO runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/$name" -m fast -w stop >/dev/null 2>&1
  fi
}
WRITER_PID=""
cleanup() {
  local rc=$?
  [ -n "$WRITER_PID" ] && kill "$WRITER_PID" 2>/dev/null
  if [ -n "${SUPERVISOR_PID:-}" ]; then
    touch "$DIR/pq.stop" 2>/dev/null
    pkill -TERM -P "$SUPERVISOR_PID" 2>/dev/null
    kill "$SUPERVISOR_PID" 2>/dev/null
  fi
  if [ -d "$DIR" ]; then
    for n in node1 node2 monitor; do stop_node "$n"; done
    if [ "$KEEP" = 1 ]; then
      log "kept $DIR (stopped); remove it with: rm -rf $DIR"
    else
      $SUDO rm -rf "$DIR"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -e "$DIR" ]; then
  log "removing the scratch directory of an earlier run: $DIR"
  for n in node1 node2 monitor; do
    [ -f "$DIR/$n/postmaster.pid" ] && as_pg pg_autoctl stop --pgdata "$DIR/$n" >/dev/null 2>&1
    [ -f "$DIR/$n/postmaster.pid" ] && $SUDO runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/$n" -m fast -w stop >/dev/null 2>&1
  done
  sleep 1
  $SUDO rm -rf "$DIR"
fi
for p in "$MON_PORT" "$P1" "$P2"; do
  port_taken "$p" && { trap - EXIT; die "port $p on $HOST is in use; set HA_MONITOR_PORT/HA_NODE1_PORT/HA_NODE2_PORT"; }
done
$SUDO mkdir -p "$DIR"
$SUDO chown postgres:postgres "$DIR"
$SUDO chmod 0777 "$DIR"   # the writer (this user) keeps its logs here too

mon() { psql -X -q -h "$HOST" -p "$MON_PORT" -U autoctl_node -d pg_auto_failover -Atc "$1" 2>/dev/null; }
node() { psql -X -q -h "$HOST" -p "$1" -U postgres -d "$DB" -Atc "$2" 2>/dev/null; }
states() {  # "5441:primary/primary 5442:secondary/secondary"
  mon "SELECT string_agg(nodeport || ':' || reportedstate || '/' || goalstate, ' ' ORDER BY nodeport)
       FROM pgautofailover.node"
}
primary_port() { mon "SELECT nodeport FROM pgautofailover.node WHERE reportedstate IN ('primary','wait_primary') AND goalstate = reportedstate LIMIT 1"; }
wait_for() {  # seconds, description, command...
  local limit=$1 what=$2
  shift 2
  local t0
  t0=$(date +%s)
  until "$@"; do
    [ $(( $(date +%s) - t0 )) -ge "$limit" ] && { log "timed out after ${limit}s waiting for $what: $(states)"; return 1; }
    sleep 0.5
  done
}
healthy() {  # a primary and a secondary, both where the monitor wants them, the standby synchronous
  local s
  s=$(states)
  case "$s" in
    "$P1:primary/primary $P2:secondary/secondary"|"$P1:secondary/secondary $P2:primary/primary") ;;
    *) return 1;;
  esac
  local pp
  pp=$(primary_port)
  [ -n "$pp" ] && node "$pp" "SELECT sync_state FROM pg_stat_replication" | grep -Eq '^(sync|quorum)$'
}

# --- 2. the formation --------------------------------------------------------------------------------------
MONITOR_URI="postgres://autoctl_node@$HOST:$MON_PORT/pg_auto_failover?sslmode=disable"
log "creating the monitor on $HOST:$MON_PORT"
as_pg pg_autoctl create monitor --pgdata "$DIR/monitor" --pgport "$MON_PORT" --hostname "$HOST" \
  --auth trust --no-ssl >"$DIR/create-monitor.log" 2>&1 || { cat "$DIR/create-monitor.log" >&2; die "monitor"; }
# Trust authentication on a shared machine: listen on the loopback only (the default is every interface).
as_pg pg_autoctl config set --pgdata "$DIR/monitor" postgresql.listen_addresses "$HOST" >/dev/null \
  || die "cannot make the monitor listen on $HOST only"
start_node monitor
wait_for 60 "the monitor" bash -c "psql -X -q -h $HOST -p $MON_PORT -U autoctl_node -d pg_auto_failover -Atc 'SELECT 1' >/dev/null 2>&1" || exit 1
if [ "$FAST" = 1 ]; then
  log "--fast: shorter health checks and demote timeout on the monitor"
  for kv in health_check_period=2000 health_check_timeout=2000 health_check_max_retries=1 \
            health_check_retry_delay=1000 node_considered_unhealthy_timeout=6000 primary_demote_timeout=10000; do
    psql -X -q -h "$HOST" -p "$MON_PORT" -U postgres -d pg_auto_failover \
      -c "ALTER SYSTEM SET pgautofailover.${kv%%=*} = ${kv#*=}" || die "cannot set pgautofailover.${kv%%=*}"
  done
  psql -X -q -h "$HOST" -p "$MON_PORT" -U postgres -d pg_auto_failover -c "SELECT pg_reload_conf()" >/dev/null
fi

create_pg() {  # name port
  as_pg pg_autoctl create postgres --pgdata "$DIR/$1" --pgport "$2" --hostname "$HOST" --name "$1" \
    --listen "$HOST" --dbname "$DB" --auth trust --no-ssl --monitor "$MONITOR_URI" >"$DIR/create-$1.log" 2>&1 \
    || { cat "$DIR/create-$1.log" >&2; die "creating $1"; }
  # Smaller than the defaults: three clusters share two cores with the project's own.
  printf "shared_buffers = '32MB'\nmax_connections = 40\n" | $SUDO tee -a "$DIR/$1/postgresql.conf" >/dev/null
  if [ "$FAST" = 1 ]; then
    as_pg pg_autoctl config set --pgdata "$DIR/$1" timeout.network_partition_timeout 5 >/dev/null \
      || die "cannot set the network partition timeout of $1"
  fi
}
log "creating the primary (node1) on $HOST:$P1"
create_pg node1 "$P1"
start_node node1
wait_for 90 "node1 to be primary" bash -c "[ \"\$(psql -X -q -h $HOST -p $MON_PORT -U autoctl_node -d pg_auto_failover -Atc \"SELECT reportedstate FROM pgautofailover.node WHERE nodeport=$P1\" 2>/dev/null)\" = single ]" || exit 1
log "creating the secondary (node2) on $HOST:$P2 (pg_basebackup from node1)"
create_pg node2 "$P2"
start_node node2
t_setup=$(now)
wait_for 120 "a healthy formation" healthy || exit 1
log "formation healthy: $(states); sync_state=$(node "$P1" 'SELECT sync_state FROM pg_stat_replication')"
log "formation URI: $(as_pg pg_autoctl show uri --pgdata "$DIR/monitor" --formation default 2>/dev/null)"

node "$P1" "CREATE TABLE ha_rows (id bigint PRIMARY KEY, port int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())" \
  || die "cannot create the table on the primary"

# --- 3. the writer -----------------------------------------------------------------------------------------
CONNINFO="host=$HOST,$HOST port=$P1,$P2 dbname=$DB user=postgres target_session_attrs=read-write connect_timeout=2"
cat >"$DIR/writer.py" <<'PY'
"""Inserts numbered rows through a multi-host connection; logs 'ok id port t' per acknowledged commit."""
import sys, time
import psycopg

conninfo, out = sys.argv[1], sys.argv[2]
i, conn = 0, None
with open(out, "a", buffering=1) as log:
    while True:
        try:
            if conn is None:
                conn = psycopg.connect(conninfo, autocommit=True)
                port = conn.execute("SELECT inet_server_port()").fetchone()[0]
            i += 1
            conn.execute("INSERT INTO ha_rows (id, port) VALUES (%s, %s)", (i, port))
            log.write(f"ok {i} {port} {time.time():.3f}\n")
            time.sleep(0.05)
        except psycopg.Error as e:
            log.write(f"err {i} 0 {time.time():.3f} {type(e).__name__}\n")
            try:
                if conn is not None:
                    conn.close()
            except Exception:
                pass
            conn = None
            time.sleep(0.2)
PY
"$PY" "$DIR/writer.py" "$CONNINFO" "$DIR/writer.log" &
WRITER_PID=$!
first_ok_on() {  # port since -> time of the first acknowledged commit on that port after `since`
  awk -v p="$1" -v t="$2" '$1 == "ok" && $3 == p && $4 > t {print $4; exit}' "$DIR/writer.log" 2>/dev/null
}
wait_for 20 "the writer's first row" bash -c "grep -q '^ok' '$DIR/writer.log' 2>/dev/null" || exit 1

# --- 3b. a procrastinate worker through the same multi-host string ------------------------------------------
# Fangkong's `fangkong jobs-worker` is procrastinate's worker with a PsycopgConnector built from Django's
# DATABASES (psycopg_pool, connections checked before use). This one is the same without Django: it runs
# under a loop that restarts it 2 s after it exits, as systemd does (deploy/systemd/fangkong-worker.service).
HAVE_PQ=0
SUPERVISOR_PID=""
if "$PY" -c "import procrastinate" 2>/dev/null; then
  HAVE_PQ=1
  cat >"$DIR/pq_app.py" <<'PY'
import os
import procrastinate

app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=os.environ["HA_CONNINFO"]))


@app.task(name="ha_touch", queue="ha")
def ha_touch(n: int) -> int:
    return n
PY
  cat >"$DIR/pq_worker.py" <<'PY'
import logging, sys
logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
from pq_app import app
try:
    app.run_worker(queues=["ha"], update_heartbeat_interval=2, fetch_job_polling_interval=1)
    print("worker returned", file=sys.stderr)
except BaseException as e:
    print(f"worker raised {type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(1)
PY
  cat >"$DIR/pq_defer.py" <<'PY'
import sys
from pq_app import app
with app.open():
    print(app.configure_task("ha_touch").defer(n=int(sys.argv[1])))
PY
  export HA_CONNINFO="$CONNINFO" PYTHONPATH="$DIR"
  "$PY" -m procrastinate --app=pq_app.app schema --apply >"$DIR/pq-schema.log" 2>&1 \
    || { log "procrastinate schema failed: $(tail -1 "$DIR/pq-schema.log")"; HAVE_PQ=0; }
fi
if [ "$HAVE_PQ" = 1 ]; then
  ( while [ ! -e "$DIR/pq.stop" ]; do
      "$PY" "$DIR/pq_worker.py" >>"$DIR/pq-worker.log" 2>&1
      echo "exit $? $(date +%s.%N)" >>"$DIR/pq-exits.log"
      sleep 2
    done ) &
  SUPERVISOR_PID=$!
fi
worker_exits() { cat "$DIR/pq-exits.log" 2>/dev/null | grep -c '^exit'; }
job_done_after() {  # since -> seconds from `since` until a job deferred now is done (the worker took it)
  local since=$1 id t_end
  for _ in $(seq 1 60); do
    id=$("$PY" "$DIR/pq_defer.py" 1 2>/dev/null) && break
    sleep 1
  done
  [ -n "$id" ] || { echo null; return; }
  t_end=$(( $(date +%s) + 120 ))
  while [ "$(date +%s)" -lt "$t_end" ]; do
    [ "$(node "$(primary_port)" "SELECT status FROM procrastinate_jobs WHERE id = $id")" = succeeded ] \
      && { secs "$since" "$(now)"; return; }
    sleep 0.5
  done
  echo null
}
sleep 2
if [ "$HAVE_PQ" = 1 ]; then
  job_ok=$(job_done_after "$(now)")
  log "procrastinate worker: a job deferred before any failover ran in ${job_ok}s"
fi

# --- 4. planned failover -----------------------------------------------------------------------------------
old=$(primary_port)
new=$([ "$old" = "$P1" ] && echo "$P2" || echo "$P1")
log "planned failover: pg_autoctl perform failover (primary $old -> $new)"
t0=$(now)
# The monitor's perform_failover() can meet a node's state report in a deadlock (pg_auto_failover 2.0: the
# call fails with "deadlock detected" and nothing changes); it is simply asked again.
for attempt in 1 2 3; do
  as_pg pg_autoctl perform failover --pgdata "$DIR/monitor" --formation default --group 0 --wait 90 \
    >"$DIR/perform-failover.log" 2>&1 && break
  log "perform failover (attempt $attempt) said: $(grep -m1 ERROR "$DIR/perform-failover.log" | cut -c1-160)"
  [ "$(primary_port)" = "$old" ] || break
  sleep 1
done
t_cmd=$(now)
wait_for 60 "writes on $new" bash -c "awk -v p=$new -v t=$t0 '\$1==\"ok\" && \$3==p && \$4>t {f=1} END {exit !f}' '$DIR/writer.log'" || exit 1
planned_s=$(secs "$t0" "$(first_ok_on "$new" "$t0")")
planned_cmd_s=$(secs "$t0" "$t_cmd")
log "planned failover: writes on $new after ${planned_s}s (the command returned after ${planned_cmd_s}s)"
job_planned_s=null
if [ "$HAVE_PQ" = 1 ]; then
  job_planned_s=$(job_done_after "$t0")
  log "procrastinate worker: a job deferred after the planned failover done ${job_planned_s}s after it began; worker exits so far: $(worker_exits)"
fi
wait_for 120 "a healthy formation after the planned failover" healthy || exit 1
sleep 2

# --- 5. kill -9 of the primary's postgres alone ------------------------------------------------------------
pp=$(primary_port)
ppname=$([ "$pp" = "$P1" ] && echo node1 || echo node2)
pm=$(postmaster_pid "$ppname")
log "kill -9 of $ppname's postmaster ($pm) alone: its keeper restarts it in place"
t0=$(now)
$SUDO kill -9 "$pm"
wait_for 90 "writes again on $pp" bash -c "awk -v p=$pp -v t=$t0 '\$1==\"ok\" && \$3==p && \$4>t {f=1} END {exit !f}' '$DIR/writer.log'" || exit 1
restart_s=$(secs "$t0" "$(first_ok_on "$pp" "$t0")")
log "postgres killed alone: writes again on $pp after ${restart_s}s ($(states))"
wait_for 120 "a healthy formation after the restart" healthy || exit 1
sleep 2

# --- 6. unplanned failover: the primary node dies -----------------------------------------------------------
pp=$(primary_port)
ppname=$([ "$pp" = "$P1" ] && echo node1 || echo node2)
sp=$([ "$pp" = "$P1" ] && echo "$P2" || echo "$P1")
pm=$(postmaster_pid "$ppname")
log "unplanned failover: kill -9 of $ppname entirely (keeper process group ${RUN_PID[$ppname]} and postmaster $pm)"
t0=$(now)
kill -9 -- "-${RUN_PID[$ppname]}" 2>/dev/null
$SUDO kill -9 "$pm" 2>/dev/null
RUN_PID[$ppname]=""
wait_for 180 "the secondary promoted and writable" bash -c "awk -v p=$sp -v t=$t0 '\$1==\"ok\" && \$3==p && \$4>t {f=1} END {exit !f}' '$DIR/writer.log'" || exit 1
unplanned_s=$(secs "$t0" "$(first_ok_on "$sp" "$t0")")
log "unplanned failover: writes on $sp after ${unplanned_s}s ($(states))"
job_unplanned_s=null
if [ "$HAVE_PQ" = 1 ]; then
  job_unplanned_s=$(job_done_after "$t0")
  log "procrastinate worker: a job deferred after the unplanned failover done ${job_unplanned_s}s after the kill"
fi
worker_exit_total=$(worker_exits)
if [ "$HAVE_PQ" = 1 ]; then
  touch "$DIR/pq.stop"
  pkill -TERM -P "$SUPERVISOR_PID" 2>/dev/null
  log "procrastinate worker exits so far: $worker_exit_total; its last words: $(grep -E 'worker (raised|returned)|failed with' "$DIR/pq-worker.log" | tail -3 | cut -c1-200 | tr '\n' '|')"
fi
sleep 2

# --- 7. no acknowledged row lost ----------------------------------------------------------------------------
kill "$WRITER_PID" 2>/dev/null
wait "$WRITER_PID" 2>/dev/null
WRITER_PID=""
acked=$(awk '$1 == "ok" {print $2}' "$DIR/writer.log" | sort -n | uniq)
acked_n=$(echo "$acked" | grep -c .)
present=$(node "$sp" "SELECT id FROM ha_rows ORDER BY id")
lost_ids=$(comm -23 <(echo "$acked" | sort) <(echo "$present" | sort))
rows_lost=$(echo "$lost_ids" | grep -c . || true)
write_errors=$(grep -c '^err' "$DIR/writer.log" || true)
log "rows acknowledged: $acked_n; on the new primary: $(echo "$present" | grep -c .); lost: $rows_lost"

# --- 8. the dead node comes back --------------------------------------------------------------------------
log "restarting $ppname: it rejoins as secondary"
t0=$(now)
start_node "$ppname"
if wait_for 180 "$ppname to rejoin" healthy; then
  rejoin_s=$(secs "$t0" "$(now)")
  log "$ppname rejoined after ${rejoin_s}s: $(states)"
else
  rejoin_s=null
fi

# --- 9. how a client follows the primary -------------------------------------------------------------------
cat >"$DIR/client.py" <<'PY'
"""A psycopg connect through both hosts, and Django settings from dj_database_url with a multi-host URL."""
import json, sys
import psycopg

host, p1, p2, db, primary = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
out = {}
conninfo = f"host={host},{host} port={p1},{p2} dbname={db} user=postgres target_session_attrs=read-write"
with psycopg.connect(conninfo) as c:
    out["psycopg_multihost_port"] = c.execute("SELECT inet_server_port()").fetchone()[0]
    out["psycopg_multihost_is_primary"] = out["psycopg_multihost_port"] == int(primary)
url_pairs = f"postgres://postgres@{host}:{p1},{host}:{p2}/{db}?target_session_attrs=read-write"
url_ports = f"postgres://postgres@{host},{host}/{db}?port={p1},{p2}&target_session_attrs=read-write"
# The read replica's URL: the same two hosts, preferring the standby (falls back to the primary if none is up).
url_standby = f"postgres://postgres@{host},{host}/{db}?port={p1},{p2}&target_session_attrs=prefer-standby"
try:
    import dj_database_url
except ImportError:
    out["dj_database_url"] = "not installed"
else:
    try:
        dj_database_url.parse(url_pairs)
        out["dj_database_url_host_port_pairs"] = True
    except Exception as e:  # ParseError: urllib cannot read a port list
        out["dj_database_url_host_port_pairs"] = False
        print(f"dj_database_url.parse({url_pairs!r}) -> {type(e).__name__}", file=sys.stderr)
    cfg = dj_database_url.parse(url_ports, conn_health_checks=True)
    cfg_standby = dj_database_url.parse(url_standby, conn_health_checks=True)
    print(f"dj_database_url.parse({url_ports!r}) -> HOST={cfg['HOST']!r} PORT={cfg['PORT']!r} "
          f"OPTIONS={cfg['OPTIONS']!r}", file=sys.stderr)
    try:
        import django
        from django.conf import settings
        settings.configure(DATABASES={"default": cfg, "replica": cfg_standby}, USE_TZ=True)
        django.setup()
        from django.db import connections
        with connections["default"].cursor() as cur:
            cur.execute("SELECT inet_server_port()")
            out["django_multihost_port"] = cur.fetchone()[0]
        out["django_multihost_is_primary"] = out["django_multihost_port"] == int(primary)
        with connections["replica"].cursor() as cur:
            cur.execute("SELECT inet_server_port(), pg_is_in_recovery()")
            port, standby = cur.fetchone()
        out["django_replica_port"] = port
        out["django_replica_is_standby"] = bool(standby)
    except ImportError:
        out["django"] = "not installed"
print(json.dumps(out))
PY
pp=$(primary_port)
client_json=$("$PY" "$DIR/client.py" "$HOST" "$P1" "$P2" "$DB" "$pp") || client_json='{"client_error": true}'
log "client check (primary is $pp): $client_json"

# --- the result --------------------------------------------------------------------------------------------
"$PY" - "$planned_s" "$planned_cmd_s" "$restart_s" "$unplanned_s" "$rows_lost" "$acked_n" "$write_errors" \
  "$rejoin_s" "$client_json" "$FAST" "$job_planned_s" "$job_unplanned_s" "${worker_exit_total:-0}" "$HAVE_PQ" <<'PY'
import json, sys
a = sys.argv[1:]
num = lambda s: None if s in ("", "null") else float(s)
print(json.dumps({"detection": "fast" if a[9] == "1" else "defaults",
    "planned_failover_s": num(a[0]), "planned_command_s": num(a[1]),
    "postgres_kill_restart_s": num(a[2]), "unplanned_failover_s": num(a[3]),
    "rows_lost": int(a[4]), "rows_acknowledged": int(a[5]), "write_errors_seen": int(a[6]),
    "rejoin_s": num(a[7]),
    **({"worker_job_done_after_planned_s": num(a[10]), "worker_job_done_after_unplanned_s": num(a[11]),
        "worker_exits": int(a[12])} if a[13] == "1" else {}),
    **json.loads(a[8]),
}))
PY
