#!/usr/bin/env bash
# The one publish command: the Dockerfile runs it for the image's target architecture, and CI runs it to check the
# image's recipe on a machine without a Docker engine (scripts/check-publish.sh).
# Usage: scripts/publish.sh OUTPUT_DIR [ARCH]
# ARCH is the target architecture as Docker names it ($TARGETARCH: amd64, arm64), which the SDK's -a takes as is
# (amd64 is x64); without it, this machine's. ReadyToRun code is compiled for that architecture, also across.
set -euo pipefail
out=${1:?usage: publish.sh OUTPUT_DIR [ARCH]}
arch=${2:-}
dotnet publish src/KestrelFrames.Server/KestrelFrames.Server.csproj -c Release --os linux ${arch:+-a "$arch"} --self-contained false \
  -o "$out" -p:PublishReadyToRun=true -p:TieredPGO=true
