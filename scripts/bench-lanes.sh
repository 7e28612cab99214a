#!/usr/bin/env bash
# The priority-lane measurement of docs/benchmarks.md: the high lane's latency alone, then while the default lane is
# saturated, with lanes (a classifier registered) and without (LaneBench:Classifier=false, one lane).
#   [WORKERS=4] bash scripts/bench-lanes.sh [runs]     (publishes to /tmp/lanes-server and /tmp/lanes-bench first)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-2}
WORKERS=${WORKERS:-4}
PORT=19950
dotnet publish -c Release tests/KestrelFrames.LaneBench -o /tmp/lanes-server >/dev/null
dotnet publish -c Release src/KestrelFrames.Bench -o /tmp/lanes-bench >/dev/null
SERVER=(dotnet /tmp/lanes-server/KestrelFrames.LaneBench.dll --Kestrel:Endpoints:Frames:Url=http://127.0.0.1:$PORT
  --Kestrel:Endpoints:Http:Url=http://127.0.0.1:$((PORT + 1)) --Logging:LogLevel:Default=Warning
  --LaneBench:WorkMicroseconds=100 --Frames:Workers=$WORKERS
  --Frames:Lanes:high:Priority=1 --Frames:Lanes:high:ReservedWorkers=1 --Frames:Lanes:high:QueueCapacity=64)
# The high lane: small requests (8 B <= LaneBench:HighMaxSize), two connections, one request in flight on each.
# Closed loop, not --rate: on the shared 2-core machine the open loop's pacer thread itself was late by tens of ms.
HIGH=(dotnet /tmp/lanes-bench/KestrelFrames.Bench.dll --port $PORT --size 8 --connections 2 --depth 1 --warmup 2s --duration 10s --json)
# The default lane, saturated: 64 connections x 32 pipelined, more than 4 workers x 100 us can answer.
LOAD=(dotnet /tmp/lanes-bench/KestrelFrames.Bench.dll --port $PORT --size 64 --connections 64 --depth 32 --warmup 0s --duration 13s --json)

summary() { python3 -c '
import json, sys
r = json.loads(sys.stdin.readline()); l = r["latency_us"]
print("%-36s req/s %9.0f  p50 %8.0f  p99 %8.0f  p99.9 %8.0f us  errors %s" % (sys.argv[1], r["requests_per_s"], l["p50"], l["p99"], l["p999"], r["errors"]))' "$1"; }

SERVER_PID=
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true' EXIT

run_case() { # $1 label, $2 classifier true|false, $3 load on|off
  "${SERVER[@]}" --LaneBench:Classifier="$2" >/dev/null & local server=$!; SERVER_PID=$server
  until curl -sf http://127.0.0.1:$((PORT + 1))/health/ready >/dev/null; do sleep 0.5; done
  local load=
  if [ "$3" = on ]; then "${LOAD[@]}" > /tmp/lanes-load.json 2>/dev/null & load=$!; sleep 1; fi
  "${HIGH[@]}" > /tmp/lanes-high.json 2>/dev/null || true
  summary "$1 high" < /tmp/lanes-high.json
  if [ -n "$load" ]; then wait "$load" || true; summary "$1 default (load)" < /tmp/lanes-load.json; fi
  kill -TERM "$server"; wait "$server" || true
}

for i in $(seq "$RUNS"); do
  echo "run $i"
  run_case "lanes, unloaded" true off
  run_case "lanes, default lane saturated" true on
  run_case "no lanes, unloaded" false off
  run_case "no lanes, saturated" false on
done
