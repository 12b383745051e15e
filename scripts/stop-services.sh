#!/usr/bin/env bash
# Stop what services.sh started (PostgreSQL, RabbitMQ), by the PIDs it recorded (no pkill/killall).
set -uo pipefail
INFRA_DIR=${INFRA_DIR:-${TMPDIR:-/tmp}/connectapp-services}
PG_DIR=$INFRA_DIR/pg
RMQ_DIR=$INFRA_DIR/rabbitmq
log() { echo "[stop $(date +%H:%M:%S)] $*"; }
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null || true); [[ -n $s && $s != Z* ]]; }

# stop_pid NAME PIDFILE SIGNAL TIMEOUT_S [EXTRA_PID_TO_WAIT_FOR]
stop_pid() {
  local name=$1 file=$2 sig=$3 timeout=$4 extra=${5:-} pid
  [[ -f $file ]] || { log "$name: no pid file"; return 0; }
  pid=$(head -1 "$file")
  if [[ -n $pid ]] && alive "$pid"; then
    log "$name: kill -$sig $pid"
    kill "-$sig" "$pid" 2>/dev/null
    local n=$((timeout * 5))
    while { alive "$pid" || { [[ -n $extra ]] && alive "$extra"; }; } && ((n-- > 0)); do sleep 0.2; done
    if alive "$pid" || { [[ -n $extra ]] && alive "$extra"; }; then
      log "$name: still alive after ${timeout}s, SIGKILL"
      kill -KILL "$pid" $extra 2>/dev/null
    fi
  else
    log "$name: not running"
  fi
  rm -f "$file"
}

# RabbitMQ: SIGTERM to the rabbitmq-server script -> clean broker shutdown; also wait for the beam PID.
beam=""; [[ -f $RMQ_DIR/rabbit.pid ]] && beam=$(cat "$RMQ_DIR/rabbit.pid")
stop_pid rabbitmq "$RMQ_DIR/server.pid" TERM 30 "$beam"
if [[ -n $beam ]] && alive "$beam"; then log "rabbitmq beam $beam still alive, SIGKILL"; kill -KILL "$beam"; fi
rm -f "$RMQ_DIR/rabbit.pid"
stop_pid epmd "$RMQ_DIR/epmd.pid" TERM 5

# PostgreSQL: SIGINT to the postmaster = "fast" shutdown.
[[ -f $PG_DIR/data/postmaster.pid && ! -f $PG_DIR/postgres.pid ]] && head -1 "$PG_DIR/data/postmaster.pid" > "$PG_DIR/postgres.pid"
stop_pid postgres "$PG_DIR/postgres.pid" INT 30
