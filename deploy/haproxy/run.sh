#!/usr/bin/env bash
# Three TestTrack instances on one PostgreSQL behind HAProxy, in the foreground; Ctrl-C stops all.
#
#   DATABASE_URL=postgres://... deploy/haproxy/run.sh
#
# TESTTRACK_LB_BIND (default 127.0.0.1:3000) is where clients connect; the instances listen on
# the next three ports (TESTTRACK_INSTANCE_PORT, default 3001..3003). Other TestTrack settings
# (TESTTRACK_*, LOG_LEVEL, ...) pass through to every instance. Installs Debian's haproxy if it
# is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${DATABASE_URL:?set DATABASE_URL: every instance must use the same PostgreSQL}"
export TESTTRACK_LB_BIND="${TESTTRACK_LB_BIND:-127.0.0.1:3000}"
first_port="${TESTTRACK_INSTANCE_PORT:-3001}"

if ! command -v haproxy >/dev/null 2>&1; then
  echo "haproxy is not installed; installing Debian's package"
  if [ "$(id -u)" = 0 ]; then apt-get install -y haproxy; else sudo apt-get install -y haproxy; fi
fi

# One build (the dashboard and the server bundle) for the three processes.
node apps/server/scripts/ensure-dashboard.mjs
node apps/server/scripts/build.mjs

pids=()
stop() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
}
trap stop EXIT INT TERM

wait_healthy() {
  for _ in $(seq 1 600); do
    curl -fsS "http://$1/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "instance at $1 did not become healthy" >&2
  return 1
}

for i in 1 2 3; do
  port=$((first_port + i - 1))
  export "TESTTRACK_INSTANCE_$i=127.0.0.1:$port"
  # All at once: on a new database one migrates while the others wait for its lock.
  PORT="$port" HOST=127.0.0.1 node --enable-source-maps apps/server/dist/main.js &
  pids+=("$!")
done
for i in 1 2 3; do wait_healthy "127.0.0.1:$((first_port + i - 1))"; done

haproxy -f deploy/haproxy/haproxy.cfg -db &
pids+=("$!")
echo "TestTrack behind HAProxy at http://$TESTTRACK_LB_BIND (instances on ports $first_port-$((first_port + 2)))"
wait -n "${pids[@]}"
