#!/usr/bin/env bash
# The published server with Prometheus' habit: /metrics scraped every second while it answers. For compare.sh
# (not CI), to measure what scraping costs: ./compare.sh "scraped=/path/to/scripts/serve-scraped.sh PORT" ...
#   Usage: scripts/serve-scraped.sh FRAMES_PORT [PUBLISH_DIR (default /tmp/kf-publish)] [HTTP_PORT (default 18999)]
set -euo pipefail
port=${1:?frames port} dir=${2:-/tmp/kf-publish} http=${3:-18999}
(sleep 3; while curl -sf -o /dev/null "http://127.0.0.1:$http/metrics"; do sleep 1; done) &
# exec: compare.sh measures the PID it started, so the server must be that process.
exec dotnet "$dir/KestrelFrames.Server.dll" --Kestrel:Endpoints:Frames:Url=http://127.0.0.1:$port \
  --Kestrel:Endpoints:Http:Url=http://127.0.0.1:$http --Logging:LogLevel:Default=Warning
