#!/usr/bin/env bash
# Throwaway backing services for running the registry as a fleet locally and in tests:
#   PostgreSQL (Debian's `postgresql`) and an S3 server (Ceph's RADOS Gateway, a one-node cluster whose
#   object store lives in memory). Everything lives in one temp dir, on free ports of 127.0.0.1.
#
#   scripts/services.sh up     start both; print KEY=VALUE lines to use (also kept in <dir>/env)
#   scripts/services.sh env    print those lines again
#   scripts/services.sh down   stop both and remove the dir
#   scripts/services.sh pg-stop | pg-start   stop / start PostgreSQL again on its port (restart tests)
#
# PERIDIO_SERVICES_ONLY=pg starts PostgreSQL alone.
# The dir is $PERIDIO_SERVICES_DIR, else ${TMPDIR:-/tmp}/peridio-services-$UID. Needs:
#   apt-get install -y postgresql ceph-mon ceph-osd radosgw ceph-common
# Log lines go to stderr; stdout carries only the KEY=VALUE lines.
set -euo pipefail

DIR="${PERIDIO_SERVICES_DIR:-${TMPDIR:-/tmp}/peridio-services-$(id -u)}"
BUCKET="${PERIDIO_SERVICES_BUCKET:-peridio-registry}"
# The in-memory object store: enough for the tests' content (deletes free nothing during a run).
MEMSTORE_BYTES="${PERIDIO_SERVICES_S3_BYTES:-3221225472}"
ACCESS_KEY=peridio-test
SECRET_KEY=peridio-test-secret

log() { echo "services: $*" >&2; }
die() {
  log "$*"
  exit 1
}

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# Waits until cmd succeeds, up to $1 tenths of a second.
wait_for() {
  local tries=$1
  shift
  for ((i = 0; i < tries; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$bin" ] || die "PostgreSQL not installed (apt-get install -y postgresql)"
  echo "$bin"
}

# initdb refuses to run as root: as root, run the server as the `postgres` user Debian's package creates.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_up() {
  local bin port
  bin=$(pg_bin)
  port=$(free_port)
  mkdir -p "$DIR/pg"
  [ "$(id -u)" = 0 ] && chown postgres "$DIR/pg" && chmod 755 "$DIR"
  as_pg "$bin/initdb" -D "$DIR/pg/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >"$DIR/pg/initdb.log" 2>&1 ||
    die "initdb failed: $(tail -5 "$DIR/pg/initdb.log")"
  as_pg "$bin/pg_ctl" -D "$DIR/pg/data" -l "$DIR/pg/server.log" -w -t 30 \
    -o "-p $port -k $DIR/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2 ||
    die "PostgreSQL did not start: $(tail -5 "$DIR/pg/server.log")"
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres registry
  echo "PERIDIO_REGISTRY_DATABASE_URL=postgres://postgres@127.0.0.1:$port/registry" >>"$DIR/env"
  echo "$port" >"$DIR/pg/port"
  log "PostgreSQL on 127.0.0.1:$port"
}

pg_start_again() {
  local bin port
  bin=$(pg_bin)
  port=$(cat "$DIR/pg/port")
  as_pg "$bin/pg_ctl" -D "$DIR/pg/data" -l "$DIR/pg/server.log" -w -t 30 \
    -o "-p $port -k $DIR/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2
}

pg_down() {
  [ -d "$DIR/pg/data" ] || return 0
  as_pg "$(pg_bin)/pg_ctl" -D "$DIR/pg/data" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
}

ceph_conf() {
  local mon_port=$1 s3_port=$2
  cat <<EOF
[global]
fsid = $(cat "$DIR/ceph/fsid")
mon host = [v2:127.0.0.1:$mon_port]
auth cluster required = none
auth service required = none
auth client required = none
ms bind msgr1 = false
run dir = $DIR/ceph/run
admin socket = $DIR/ceph/run/\$name.asok
pid file = $DIR/ceph/run/\$name.pid
log file = $DIR/ceph/log/\$name.log
mon data = $DIR/ceph/mon/\$id
osd data = $DIR/ceph/osd/\$id
rgw data = $DIR/ceph/rgw
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon data avail crit = 1
mon data avail warn = 1

[mon]
paxos propose interval = 0.01

[osd]
osd objectstore = memstore
memstore device bytes = $MEMSTORE_BYTES
public addr = 127.0.0.1
cluster addr = 127.0.0.1

[client]
ms mon client mode = crc secure

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$s3_port
rgw dns name = 127.0.0.1
EOF
}

# The daemon whose pid file this is is alive (zombies linger: read /proc, not kill -0).
alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -r "/proc/$pid/cmdline" ] && [ -n "$(tr -d '\0' <"/proc/$pid/cmdline" 2>/dev/null)" ]
}

# Our radosgw owns the port (a stale gateway on a reused port could answer otherwise).
rgw_ready() {
  local port=$1 pid
  pid=$(cat "$DIR/ceph/run/client.rgw.pid" 2>/dev/null) || return 1
  ls -l "/proc/$pid/fd" 2>/dev/null | grep -q socket || return 1
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")" = 200 ]
}

s3_up() {
  command -v ceph-mon >/dev/null && command -v radosgw >/dev/null ||
    die "Ceph not installed (apt-get install -y ceph-mon ceph-osd radosgw ceph-common)"
  local mon_port s3_port conf id uuid
  mon_port=$(free_port)
  s3_port=$(free_port)
  mkdir -p "$DIR/ceph/"{run,log,mon/a,osd,rgw}
  uuidgen >"$DIR/ceph/fsid"
  conf="$DIR/ceph/ceph.conf"
  ceph_conf "$mon_port" "$s3_port" >"$conf"
  unset CEPH_CONF
  monmaptool --create --fsid "$(cat "$DIR/ceph/fsid")" --addv a "[v2:127.0.0.1:$mon_port]" "$DIR/ceph/monmap" >/dev/null
  ceph-mon -c "$conf" -i a --mkfs --monmap "$DIR/ceph/monmap" >/dev/null 2>&1 || die "ceph-mon --mkfs failed"
  ceph-mon -c "$conf" -i a
  uuid=$(uuidgen)
  id=$(timeout 60 ceph -c "$conf" --connect-timeout 30 osd new "$uuid") || die "ceph osd new failed"
  mkdir -p "$DIR/ceph/osd/$id"
  ceph-osd -c "$conf" -i "$id" --mkfs --osd-uuid "$uuid" >/dev/null 2>&1 || die "ceph-osd --mkfs failed"
  ceph-osd -c "$conf" -i "$id" 2>>"$DIR/ceph/log/osd-start.log"
  echo "$id" >"$DIR/ceph/osd-id"
  radosgw -c "$conf" -n client.rgw
  wait_for 600 rgw_ready "$s3_port" || die "radosgw did not answer on 127.0.0.1:$s3_port (see $DIR/ceph/log)"
  timeout 60 radosgw-admin -c "$conf" user create --uid test --display-name test \
    --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" >/dev/null || die "radosgw-admin user create failed"
  cat >>"$DIR/env" <<EOF
PERIDIO_REGISTRY_BLOB_STORE=s3://$BUCKET
AWS_ENDPOINT_URL_S3=http://127.0.0.1:$s3_port
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=$ACCESS_KEY
AWS_SECRET_ACCESS_KEY=$SECRET_KEY
PERIDIO_REGISTRY_S3_FORCE_PATH_STYLE=1
EOF
  echo "$s3_port" >"$DIR/ceph/s3-port"
  log "S3 (Ceph RADOS Gateway) on http://127.0.0.1:$s3_port, bucket $BUCKET (created by the registry)"
}

stop_pidfile() {
  local file=$1 pid
  alive "$file" || return 0
  pid=$(cat "$file")
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    alive "$file" || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

s3_down() {
  [ -d "$DIR/ceph/run" ] || return 0
  # In this order: stopping the gateway and the OSD together can leave radosgw hung.
  stop_pidfile "$DIR/ceph/run/client.rgw.pid"
  for f in "$DIR"/ceph/run/osd.*.pid; do [ -e "$f" ] && stop_pidfile "$f"; done
  stop_pidfile "$DIR/ceph/run/mon.a.pid"
}

down() {
  s3_down
  pg_down
  rm -rf "$DIR"
}

case "${1:-up}" in
  up)
    [ -f "$DIR/env" ] && die "already up in $DIR (scripts/services.sh down first)"
    rm -rf "$DIR"
    mkdir -p "$DIR"
    : >"$DIR/env"
    trap 'down' ERR
    started=$(date +%s.%N)
    pg_up
    [ "${PERIDIO_SERVICES_ONLY:-}" = pg ] || s3_up
    trap - ERR
    log "up in $(printf '%.1f' "$(echo "$(date +%s.%N) - $started" | bc 2>/dev/null || echo 0)") s; state in $DIR"
    cat "$DIR/env"
    ;;
  env)
    [ -f "$DIR/env" ] || die "not up (scripts/services.sh up)"
    cat "$DIR/env"
    ;;
  down)
    down
    log "down"
    ;;
  pg-stop)
    as_pg "$(pg_bin)/pg_ctl" -D "$DIR/pg/data" -m fast -w -t 20 stop >&2
    ;;
  pg-start)
    pg_start_again
    ;;
  *)
    echo "usage: scripts/services.sh up|env|down|pg-stop|pg-start" >&2
    exit 2
    ;;
esac
