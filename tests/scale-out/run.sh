#!/usr/bin/env bash
# The scale-out test: three published servers behind the real HAProxy (deploy/haproxy/haproxy.cfg, health-checked
# on /health/ready, PROXY protocol v2), a load client pipelining through it, and a rolling restart by SIGTERM.
# Asserts: no request lost, none answered twice, every echo right; HAProxy marked each instance down while its
# listener was still open; every instance exited 0; the servers answered exactly what the client got (no request
# processed twice); throughput recovered after each restart. Needs: haproxy, socat, curl, ss (Debian packages).
set -euo pipefail
cd "$(dirname "$0")/../.."

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

base=${SCALE_OUT_PORT_BASE:-19400}
frontend=$base
publish=$work/server
bash scripts/publish.sh "$publish" >/dev/null
dotnet build tests/KestrelFrames.ScaleOut -c Release -o "$work/load" >/dev/null
export STATS_SOCKET=$work/haproxy.sock FRONTEND_BIND=127.0.0.1:$frontend

frames_port() { echo $((base + $1)); }
http_port() { echo $((base + 10 + $1)); }
declare -A server_pid

start_server() { # $1 = instance 1..3, $2 = run number
  local i=$1 run=$2
  dotnet "$publish/KestrelFrames.Server.dll" \
    --Kestrel:Endpoints:Frames:Url=http://127.0.0.1:"$(frames_port "$i")" \
    --Kestrel:Endpoints:Http:Url=http://127.0.0.1:"$(http_port "$i")" \
    --Frames:DrainDelay=00:00:02 \
    --Frames:ProxyProtocol:Mode=Required --Frames:ProxyProtocol:TrustedProxies:0=127.0.0.1 \
    >"$work/kf$i-$run.log" 2>&1 &
  server_pid[$i]=$!
  pids+=($!)
  for _ in $(seq 1 150); do
    curl -fsS "http://127.0.0.1:$(http_port "$i")/health/ready" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "kf$i did not become ready"; cat "$work/kf$i-$run.log"; exit 1
}

haproxy_state() { # $1 = instance -> UP / DOWN / ...
  echo "show stat" | socat - "UNIX-CONNECT:$STATS_SOCKET" 2>/dev/null | awk -F, -v s="kf$1" '$1=="kestrelframes" && $2==s {print $18}'
}

wait_state() { # $1 = instance, $2 = state prefix; up to 15 s
  for _ in $(seq 1 150); do
    [[ "$(haproxy_state "$1")" == "$2"* ]] && return 0
    sleep 0.1
  done
  echo "HAProxy never saw kf$1 $2 (it says $(haproxy_state "$1"))"; exit 1
}

listening() { ss -ltnH "sport = :$1" | grep -q .; }

completed_so_far() { # completions the servers have answered, from their /metrics
  local total=0 i v
  for i in 1 2 3; do
    v=$(curl -fsS "http://127.0.0.1:$(http_port "$i")/metrics" 2>/dev/null | awk '/^frames_requests_total\{outcome="ok"\}/ {print $2}')
    total=$((total + ${v%.*}))
  done
  echo $total
}

for i in 1 2 3; do start_server $i 1; done
for i in 1 2 3; do export KF${i}_FRAMES=127.0.0.1:$(frames_port $i) KF${i}_HTTP=$(http_port $i); done
haproxy -db -f deploy/haproxy/haproxy.cfg >"$work/haproxy.log" 2>&1 &
pids+=($!)
for i in 1 2 3; do wait_state $i UP; done
echo "3 instances up behind HAProxy on 127.0.0.1:$frontend"

dotnet "$work/load/KestrelFrames.ScaleOut.dll" --port "$frontend" --connections 32 --depth 8 >"$work/load.json" 2>"$work/load.err" &
load=$!
pids+=($load)
sleep 3
baseline=$(completed_so_far)
[ "$baseline" -gt 0 ] || { echo "no traffic before the restarts"; cat "$work/load.err"; exit 1; }

answered_by_exited=0
for i in 1 2 3; do
  pid=${server_pid[$i]}
  kill -TERM "$pid"
  # Readiness fails at once; HAProxy must mark the instance down while it still listens (inside the drain delay).
  wait_state $i DOWN
  listening "$(frames_port $i)" || { echo "kf$i stopped listening before HAProxy marked it down"; exit 1; }
  echo "kf$i: marked DOWN by HAProxy while its listener was still open"
  code=0; wait "$pid" || code=$?
  [ $code = 0 ] || { echo "kf$i exited $code"; cat "$work/kf$i-1.log"; exit 1; }
  line=$(grep -o 'Drained .*since start' "$work/kf$i-1.log") || { echo "kf$i logged no drain summary"; exit 1; }
  echo "kf$i: exit 0; $line"
  answered_by_exited=$((answered_by_exited + $(echo "$line" | sed -n 's/.*; \([0-9]*\) requests answered since start/\1/p')))
  start_server $i 2
  wait_state $i UP
  # Throughput recovered: the client keeps completing requests with the instance back.
  before=$(completed_so_far)
  sleep 2
  after=$(completed_so_far)
  [ $((after - before)) -gt 0 ] || { echo "no requests completed after kf$i came back"; exit 1; }
  echo "kf$i: back UP; $((after - before)) requests answered by the three instances in the next 2 s"
done

kill -TERM "$load"
wait "$load" || { echo "load client failed:"; cat "$work/load.json" "$work/load.err"; exit 1; }
for i in 1 2 3; do
  kill -TERM "${server_pid[$i]}"
  wait "${server_pid[$i]}"
  line=$(grep -o 'Drained .*since start' "$work/kf$i-2.log")
  answered_by_exited=$((answered_by_exited + $(echo "$line" | sed -n 's/.*; \([0-9]*\) requests answered since start/\1/p')))
done

summary=$(cat "$work/load.json")
completed=$(echo "$summary" | sed -n 's/.*"completed":\([0-9]*\).*/\1/p')
echo "load client: $summary"
echo "servers answered $answered_by_exited requests; the client completed $completed"
[ "$answered_by_exited" = "$completed" ] || { echo "FAIL: servers answered $answered_by_exited, client completed $completed: some request was processed twice or lost"; exit 1; }
echo "scale-out: PASS (requests $completed, resent $(echo "$summary" | sed -n 's/.*"resent":\([0-9]*\).*/\1/p'), max pause $(echo "$summary" | sed -n 's/.*"max_pause_ms":\([0-9.]*\).*/\1/p') ms)"
