#!/usr/bin/env bash
# ConnectApp's services: install (idempotently) and start PostgreSQL 15 and RabbitMQ 3.10 from Debian 12 packages,
# on loopback only, with all state under $INFRA_DIR, then wait until both are ready.
# No systemd needed: both run as plain background processes whose PIDs are recorded for stop.sh.
#
#   bash services.sh            # keep data from an earlier run
#   FRESH=1 bash services.sh    # wipe data dirs first (clean CI state)
#
# Env knobs (defaults shown):
#   INFRA_DIR=${TMPDIR:-/tmp}/connectapp-services  PG_PORT=5432  PG_APP_USER=app  PG_APP_PASSWORD=app_pw  PG_APP_DB=appdb
#   PG_SUPERUSER_PASSWORD=postgres  RABBITMQ_MANAGEMENT=1  AMQP_PORT=5672  RABBIT_MGMT_PORT=15672
set -euo pipefail

INFRA_DIR=${INFRA_DIR:-${TMPDIR:-/tmp}/connectapp-services}
PG_PORT=${PG_PORT:-5432}
PG_APP_USER=${PG_APP_USER:-app}
PG_APP_PASSWORD=${PG_APP_PASSWORD:-app_pw}
PG_APP_DB=${PG_APP_DB:-appdb}
PG_SUPERUSER_PASSWORD=${PG_SUPERUSER_PASSWORD:-postgres}
RABBITMQ_MANAGEMENT=${RABBITMQ_MANAGEMENT:-1}
AMQP_PORT=${AMQP_PORT:-5672}
RABBIT_MGMT_PORT=${RABBIT_MGMT_PORT:-15672}

PG_DIR=$INFRA_DIR/pg
RMQ_DIR=$INFRA_DIR/rabbitmq
log() { echo "[services $(date +%H:%M:%S)] $*"; }
die() { echo "[services] ERROR: $*" >&2; exit 1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
alive() { # pid exists and is not a zombie
  local s; s=$(ps -o stat= -p "$1" 2>/dev/null || true); [[ -n $s && $s != Z* ]]
}

# ---------------------------------------------------------------- install
need=()
ls -d /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
[[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] || need+=(rabbitmq-server)
if ((${#need[@]})); then
  log "apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
mkdir -p "$INFRA_DIR"
chmod 755 "$INFRA_DIR"

if [[ ${FRESH:-0} == 1 ]]; then
  [[ -f $PG_DIR/postgres.pid ]] && alive "$(cat "$PG_DIR/postgres.pid")" && die "PostgreSQL still running; run stop.sh first"
  [[ -f $RMQ_DIR/server.pid ]] && alive "$(cat "$RMQ_DIR/server.pid")" && die "RabbitMQ still running; run stop.sh first"
  rm -rf "$PG_DIR" "$RMQ_DIR"
fi

# ---------------------------------------------------------------- PostgreSQL
mkdir -p "$PG_DIR"
chown postgres:postgres "$PG_DIR"
as_pg() { (cd "$PG_DIR" && setpriv --reuid=postgres --regid=postgres --init-groups "$@"); }

if [[ ! -f $PG_DIR/data/PG_VERSION ]]; then
  log "initdb $PG_DIR/data"
  printf '%s\n' "$PG_SUPERUSER_PASSWORD" > "$PG_DIR/.pwfile"
  chown postgres:postgres "$PG_DIR/.pwfile"; chmod 600 "$PG_DIR/.pwfile"
  as_pg "$PGBIN/initdb" -D "$PG_DIR/data" -U postgres --pwfile="$PG_DIR/.pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 > "$PG_DIR/initdb.log"
  rm -f "$PG_DIR/.pwfile"
fi

if as_pg "$PGBIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
  log "PostgreSQL already running (pid $(head -1 "$PG_DIR/data/postmaster.pid"))"
else
  port_open "$PG_PORT" && die "127.0.0.1:$PG_PORT already in use by another process"
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  # fsync etc. off: throwaway CI data, faster tests. pg_ctl -w waits until it accepts connections.
  as_pg "$PGBIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 start -o \
    "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    >/dev/null || { tail -20 "$PG_DIR/postgres.log" >&2; die "PostgreSQL failed to start"; }
fi
head -1 "$PG_DIR/data/postmaster.pid" > "$PG_DIR/postgres.pid"
for i in $(seq 1 60); do
  "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break
  [[ $i == 60 ]] && die "PostgreSQL not ready"; sleep 0.5
done

psql_su() { psql -h "$PG_DIR" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
if [[ -z $(psql_su -c "SELECT 1 FROM pg_roles WHERE rolname='$PG_APP_USER'") ]]; then
  psql_su -c "CREATE ROLE \"$PG_APP_USER\" LOGIN CREATEDB NOSUPERUSER PASSWORD '$PG_APP_PASSWORD'"
else
  psql_su -c "ALTER ROLE \"$PG_APP_USER\" LOGIN CREATEDB NOSUPERUSER PASSWORD '$PG_APP_PASSWORD'"
fi
if [[ -z $(psql_su -c "SELECT 1 FROM pg_database WHERE datname='$PG_APP_DB'") ]]; then
  psql_su -c "CREATE DATABASE \"$PG_APP_DB\" OWNER \"$PG_APP_USER\""
fi
# pg_trgm is trusted only for superusers to create: do it once in template1 so every database (tests make their own) has it.
psql_su -d template1 -c "CREATE EXTENSION IF NOT EXISTS pg_trgm" >/dev/null
psql_su -d "$PG_APP_DB" -c "CREATE EXTENSION IF NOT EXISTS pg_trgm" >/dev/null
PGPASSWORD=$PG_APP_PASSWORD psql "host=127.0.0.1 port=$PG_PORT user=$PG_APP_USER dbname=$PG_APP_DB" -qAtc 'select 1' >/dev/null \
  || die "password login as $PG_APP_USER over TCP failed"
log "PostgreSQL ready: Host=127.0.0.1;Port=$PG_PORT;Database=$PG_APP_DB;Username=$PG_APP_USER;Password=$PG_APP_PASSWORD (pid $(cat "$PG_DIR/postgres.pid"))"

# ---------------------------------------------------------------- RabbitMQ
mkdir -p "$RMQ_DIR/mnesia" "$RMQ_DIR/log"
cat > "$RMQ_DIR/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$AMQP_PORT
loopback_users.guest = true
management.tcp.ip = 127.0.0.1
management.tcp.port = $RABBIT_MGMT_PORT
EOF
if [[ $RABBITMQ_MANAGEMENT == 1 ]]; then echo '[rabbitmq_management].' > "$RMQ_DIR/enabled_plugins"
else echo '[].' > "$RMQ_DIR/enabled_plugins"; fi
chown -R rabbitmq:rabbitmq "$RMQ_DIR"

export HOME_RMQ=/var/lib/rabbitmq   # holds .erlang.cookie shared by server and CLI
export RABBITMQ_NODENAME=rabbit@localhost
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT=$AMQP_PORT
export RABBITMQ_DIST_PORT=25672
export RABBITMQ_CONFIG_FILE=$RMQ_DIR/rabbitmq.conf
export RABBITMQ_MNESIA_BASE=$RMQ_DIR/mnesia
export RABBITMQ_LOG_BASE=$RMQ_DIR/log
export RABBITMQ_ENABLED_PLUGINS_FILE=$RMQ_DIR/enabled_plugins
export RABBITMQ_PID_FILE=$RMQ_DIR/rabbit.pid
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
as_rmq() { (cd "$RMQ_DIR" && HOME=$HOME_RMQ setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "$@"); }
rmqctl() { as_rmq /usr/lib/rabbitmq/bin/rabbitmqctl -n "$RABBITMQ_NODENAME" "$@"; }
rmqdiag() { as_rmq /usr/lib/rabbitmq/bin/rabbitmq-diagnostics -n "$RABBITMQ_NODENAME" "$@"; }

if [[ -f $RMQ_DIR/server.pid ]] && alive "$(cat "$RMQ_DIR/server.pid")"; then
  log "RabbitMQ already running (pid $(cat "$RMQ_DIR/server.pid"))"
else
  port_open "$AMQP_PORT" && die "127.0.0.1:$AMQP_PORT already in use by another process"
  if ! port_open 4369; then
    # our own epmd, loopback only, in the foreground of its own background process so its PID is known
    # NB: '&' must apply to a simple command (not to 'cd && cmd'), or $! is a subshell, not epmd.
    (cd "$RMQ_DIR"; HOME=$HOME_RMQ nohup setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups \
       /usr/bin/epmd > "$RMQ_DIR/log/epmd.log" 2>&1 & echo $! > "$RMQ_DIR/epmd.pid")
    for i in $(seq 1 50); do port_open 4369 && break; sleep 0.1; done
  fi
  log "starting RabbitMQ on 127.0.0.1:$AMQP_PORT (management=$RABBITMQ_MANAGEMENT)"
  # The server script (not -detached) traps SIGTERM and shuts the broker down cleanly: its PID is the one to stop.
  (cd "$RMQ_DIR"; HOME=$HOME_RMQ nohup setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups \
     /usr/lib/rabbitmq/bin/rabbitmq-server > "$RMQ_DIR/log/server.out" 2>&1 & echo $! > "$RMQ_DIR/server.pid")
fi

# wait: node registered with epmd (ping), then the app fully booted (await_startup)
for i in $(seq 1 120); do
  rmqdiag -q ping >/dev/null 2>&1 && break
  alive "$(cat "$RMQ_DIR/server.pid")" || { tail -30 "$RMQ_DIR/log/server.out" >&2; die "RabbitMQ exited during startup"; }
  [[ $i == 120 ]] && die "RabbitMQ did not answer ping in 60 s"
  sleep 0.5
done
rmqctl -q await_startup --timeout 60 >/dev/null || die "RabbitMQ await_startup failed"
rmqdiag -q check_port_listener "$AMQP_PORT" >/dev/null || die "RabbitMQ not listening on $AMQP_PORT"
if [[ $RABBITMQ_MANAGEMENT == 1 ]]; then
  for i in $(seq 1 40); do
    curl -fsS -u guest:guest "http://127.0.0.1:$RABBIT_MGMT_PORT/api/overview" >/dev/null 2>&1 && break
    [[ $i == 40 ]] && die "management API not up"; sleep 0.5
  done
fi
log "RabbitMQ ready: amqp://guest:guest@127.0.0.1:$AMQP_PORT/ (pid $(cat "$RMQ_DIR/server.pid"), beam $(cat "$RMQ_DIR/rabbit.pid" 2>/dev/null))"
