#!/usr/bin/env bash
# Where a server's time goes per request (not CI): runs framebench against one server and counts, with perf, the
# server's system calls, socket receives and sends, context switches and thread-pool yields, divided by the requests
# framebench answered in the same window. docs/benchmarks.md ("the profile") quotes it.
#   Usage: scripts/profile-syscalls.sh kf|netty|c-epoll [framebench flags, default: case a]
#   Needs: linux-perf, ../shared/bench built (./build.sh), and for kf a publish in $KF_PUBLISH (default /tmp/kf-publish).
set -euo pipefail
server=${1:?kf, netty or c-epoll}; shift
flags=("$@"); [ ${#flags[@]} -gt 0 ] || flags=(-conns 64 -depth 1 -size 64)
bin=${BENCH_HOME:-$HOME/.cache/kestrelframes-bench}/bin
port=19557 out=$(mktemp -d)
case $server in
  kf) dotnet "${KF_PUBLISH:-/tmp/kf-publish}/KestrelFrames.Server.dll" --Kestrel:Endpoints:Frames:Url=http://127.0.0.1:$port \
        --Kestrel:Endpoints:Http:Url=http://127.0.0.1:0 --Logging:LogLevel:Default=Warning >"$out/server.log" 2>&1 & ;;
  netty) "$bin/netty-server" $port >"$out/server.log" 2>&1 & ;;
  c-epoll) "$bin/c-epoll" $port >"$out/server.log" 2>&1 & ;;
  *) echo "unknown server $server" >&2; exit 1 ;;
esac
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$out"' EXIT
for _ in $(seq 1 100); do (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.2; done

"$bin/framebench" -addr 127.0.0.1:$port -duration 8s -warmup 2s -json -pid $pid "${flags[@]}" >"$out/fb.json" 2>/dev/null &
load=$!
sleep 3 # inside the measured window (2 s warm-up), which the 5 s below stays within
perf stat -x, -o "$out/perf.csv" -p $pid -e raw_syscalls:sys_enter,sched:sched_switch,syscalls:sys_enter_sched_yield \
  -e syscalls:sys_enter_recvfrom,syscalls:sys_enter_read,syscalls:sys_enter_sendto,syscalls:sys_enter_writev,syscalls:sys_enter_sendmsg \
  -- sleep 5
wait $load
python3 - "$server" "$out" <<'PY'
import csv, json, sys
server, out = sys.argv[1], sys.argv[2]
rps = json.load(open(f"{out}/fb.json"))["rps"]
counts = {row[2].split(":")[-1].replace("sys_enter_", ""): int(row[0])
          for row in csv.reader(open(f"{out}/perf.csv")) if len(row) > 2 and row[0].strip().isdigit()}
print(f"{server}: {rps:,.0f} req/s; per request: " + ", ".join(f"{k} {v / (rps * 5):.2f}" for k, v in counts.items()))
PY
