#!/usr/bin/env bash
# Starts the built server on loopback, drives some frame traffic, scrapes /metrics and runs
# `promtool check metrics` on it; checks the alert rules and Prometheus config with promtool too.
# Needs: the solution built (dotnet build), promtool (Debian package `prometheus`).
set -euo pipefail
cd "$(dirname "$0")/.."

frames_port=${FRAMES_PORT:-19711}
http_port=${HTTP_PORT:-18711}
dll=src/KestrelFrames.Server/bin/${CONFIGURATION:-Debug}/net10.0/KestrelFrames.Server.dll
log=$(mktemp)

dotnet "$dll" --Kestrel:Endpoints:Frames:Url=http://127.0.0.1:$frames_port \
  --Kestrel:Endpoints:Http:Url=http://127.0.0.1:$http_port >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -f "$log"' EXIT

for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$http_port/health/ready" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$http_port/health/ready" >/dev/null || { cat "$log"; exit 1; }

# 50 echo requests, a heartbeat and one oversize header, over bash's /dev/tcp.
exec 3<>"/dev/tcp/127.0.0.1/$frames_port"
for _ in $(seq 1 50); do printf '\x00\x00\x00\x05hello' >&3; done
printf '\x00\x00\x00\x00' >&3
head -c $((50 * 9 + 4)) <&3 >/dev/null
exec 3>&-
exec 4<>"/dev/tcp/127.0.0.1/$frames_port"
printf '\x7f\x00\x00\x00' >&4
cat <&4 >/dev/null || true
exec 4>&-

metrics=$(curl -fsS "http://127.0.0.1:$http_port/metrics")
echo "$metrics" | promtool check metrics
echo "$metrics" | grep -q '^frames_requests_total{outcome="ok"} 50$' || { echo "frames_requests_total{outcome=\"ok\"} is not 50"; echo "$metrics" | grep '^frames_'; exit 1; }
echo "$metrics" | grep -q '^frames_protocol_errors_total{reason="frame_too_large"} 1$' || { echo "frame_too_large is not 1"; exit 1; }
echo "promtool check metrics: ok ($(echo "$metrics" | grep -vc '^#') samples)"

if [ -f deploy/prometheus/alerts.yml ]; then promtool check rules deploy/prometheus/alerts.yml; fi
if [ -f deploy/prometheus/prometheus.yml ]; then promtool check config deploy/prometheus/prometheus.yml; fi
