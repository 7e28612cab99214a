#!/usr/bin/env bash
# Connection scale (not CI): holds N idle frame connections open against the published server, each sending a
# heartbeat and getting its answer, and reports the server's RSS growth per connection; then closes them all and
# checks the server is back to zero connections and to its starting descriptor count.   Usage: scripts/connection-scale.sh [N ...]   (default 10000 18000)
# A process here may open at most 20,000 files (ulimit -Hn), which caps N near 19,000 for the client side.
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("${@:-10000 18000}")
ulimit -n "$(ulimit -Hn)"

out=$(mktemp -d)
bash scripts/publish.sh "$out" >/dev/null
frames=19611 http=18611
dotnet "$out/KestrelFrames.Server.dll" --Kestrel:Endpoints:Frames:Url=http://127.0.0.1:$frames \
  --Kestrel:Endpoints:Http:Url=http://127.0.0.1:$http --Logging:LogLevel:Default=Warning --Frames:MaxConnections=20000 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$out"' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$http/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$server/status"; }
fds() { ls "/proc/$server/fd" | wc -l; }
fds0=$(fds)
active() { curl -fsS "http://127.0.0.1:$http/metrics" | awk '/^frames_active_connections / {print $2}'; }

for n in ${counts[@]}; do
  before=$(rss_kib)
  python3 - "$frames" "$n" "$server" "$before" "$http" <<'PY'
import socket, sys, time, urllib.request
port, n, pid, before, http = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
def rss():
    return int(next(l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")))
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    socks.append(s)
def heartbeat_round():
    # One connection at a time: all at once would make Kestrel's memory pool grow to one 4 KiB block per
    # connection in flight and keep them, measuring the pool's peak rather than what an idle connection holds.
    for s in socks:
        s.sendall(b"\0\0\0\0")
        got = b""
        while len(got) < 4:
            chunk = s.recv(4 - len(got))
            if not chunk: raise SystemExit("server closed a connection")
            got += chunk
        assert got == b"\0\0\0\0", got
heartbeat_round()
time.sleep(2)   # let the server settle before reading RSS; a measurement, not a synchronisation
heartbeat_round()
after = rss()
print(f"{n} idle connections held, each answered two heartbeats: server RSS {before/1024:.1f} -> {after/1024:.1f} MiB, "
      f"{(after-before)*1024/n:.0f} bytes per connection")
scrapes = []
for _ in range(11):
    started = time.perf_counter()
    body = urllib.request.urlopen(f"http://127.0.0.1:{http}/metrics").read()
    scrapes.append((time.perf_counter() - started) * 1000)
scrapes.sort()
print(f"/metrics with {n} connections open: median {scrapes[5]:.1f} ms, max {scrapes[-1]:.1f} ms over 11 scrapes, {len(body)} bytes")
for s in socks: s.close()
PY
  for _ in $(seq 1 100); do [ "$(active)" = "0" ] && break; sleep 0.1; done
  echo "after closing: frames_active_connections $(active), open descriptors $(fds) ($fds0 at start)"
done
