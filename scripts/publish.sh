#!/usr/bin/env bash
# The one publish command: the Dockerfile runs it, and CI runs it to check the image's recipe on a machine
# without a Docker engine (scripts/check-publish.sh). Usage: scripts/publish.sh OUTPUT_DIR
set -euo pipefail
out=${1:?usage: publish.sh OUTPUT_DIR}
dotnet publish src/KestrelFrames.Server/KestrelFrames.Server.csproj -c Release -r linux-x64 --self-contained false -o "$out" \
  -p:PublishReadyToRun=true -p:TieredPGO=true
