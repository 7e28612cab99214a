#!/usr/bin/env bash
# Proves the Dockerfile's recipe without a Docker engine: runs the Dockerfile's own publish line (this machine's
# architecture for $TARGETARCH), then starts the output with the runtime image's environment and the Dockerfile's ENV
# and ENTRYPOINT as a non-root user, and checks the HEALTHCHECK command, an echo, JSON logs with no warning, and a
# clean SIGTERM exit. The endpoints are moved to free loopback ports (the only override), so the check cannot collide
# with anything on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the image promises: the chiseled runtime (no shell, so exec-form commands only) and versions that cannot move.
grep -Eq '^FROM mcr\.microsoft\.com/dotnet/aspnet:[0-9][^ ]*-chiseled( |$)' Dockerfile || { echo "the runtime stage is not a pinned chiseled aspnet image"; exit 1; }
if grep -E '^FROM ' Dockerfile | grep -Ev ':[0-9][^ ]*( AS .*)?$'; then echo "a FROM above has no pinned version tag"; exit 1; fi

case $(uname -m) in
  x86_64) targetarch=amd64 ;;
  aarch64 | arm64) targetarch=arm64 ;;
  *) echo "no Docker architecture for $(uname -m)"; exit 1 ;;
esac

out=$(mktemp -d)
# The Dockerfile's publish line, word for word, with its output folder and architecture filled in.
publish=$(sed -n 's/^RUN .*\(bash scripts\/publish\.sh .*\)$/\1/p' Dockerfile)
[ "$(grep -c . <<<"$publish")" = 1 ] || { echo "the Dockerfile has no single 'RUN ... bash scripts/publish.sh' line"; exit 1; }
read -r -a words <<<"$publish"
for i in "${!words[@]}"; do
  case ${words[$i]} in
    /app) words[$i]=$out ;;
    '$TARGETARCH' | '${TARGETARCH}') words[$i]=$targetarch ;;
  esac
done
echo "publish: ${words[*]}"
"${words[@]}" >/dev/null
chmod -R a+rX "$out"

# The runtime image's own environment (mcr.microsoft.com/dotnet/runtime-deps, which aspnet builds on), then the
# Dockerfile's, read from the Dockerfile itself: a later value wins, as in the image.
base_envs=(APP_UID=1654 ASPNETCORE_HTTP_PORTS=8080 DOTNET_RUNNING_IN_CONTAINER=true DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=true)
mapfile -t envs < <(sed -n 's/^ENV \([A-Za-z_]*\)=\(.*\)$/\1=\2/p' Dockerfile)
entrypoint=$(sed -n 's/^ENTRYPOINT \[\(.*\)\]$/\1/p' Dockerfile | tr -d '"' | tr ',' ' ')
healthcheck=$(sed -n 's/^HEALTHCHECK .* CMD \[\(.*\)\]$/\1/p' Dockerfile | tr -d '"' | tr ',' ' ')
[ -n "$entrypoint" ] && [ -n "$healthcheck" ] && [ ${#envs[@]} -gt 0 ] || { echo "could not read the Dockerfile's ENV, exec-form ENTRYPOINT and HEALTHCHECK"; exit 1; }

user=app
id -u "$user" >/dev/null 2>&1 || useradd --system --uid 1654 --no-create-home "$user" 2>/dev/null || user=nobody
frames_port=${FRAMES_PORT:-19811}
http_port=${HTTP_PORT:-18811}
run_env=(env -i PATH="$PATH" HOME=/tmp DOTNET_ROOT="${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}" "${base_envs[@]}" "${envs[@]}"
  Kestrel__Endpoints__Frames__Url=http://127.0.0.1:$frames_port Kestrel__Endpoints__Http__Url=http://127.0.0.1:$http_port)
log=$(mktemp)
chmod a+w "$log"

cd "$out"
runuser -u "$user" -- "${run_env[@]}" $entrypoint >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$out"' EXIT

ok=0
for _ in $(seq 1 100); do
  if runuser -u "$user" -- "${run_env[@]}" $healthcheck >/dev/null 2>&1; then ok=1; break; fi
  sleep 0.2
done
[ $ok = 1 ] || { echo "HEALTHCHECK command never succeeded"; cat "$log"; exit 1; }
echo "healthcheck: ok ($healthcheck)"

exec 3<>"/dev/tcp/127.0.0.1/$frames_port"
printf '\x00\x00\x00\x05hello' >&3
answer=$(head -c 9 <&3 | od -An -tx1 | tr -d ' \n')
exec 3>&-
[ "$answer" = "0000000568656c6c6f" ] || { echo "echo failed: $answer"; exit 1; }
echo "echo: ok"

ps -o user= -p "$(pgrep -P $server || echo $server)" | grep -qv '^root' || { echo "the server runs as root"; exit 1; }
echo "user: $(ps -o user= -p "$(pgrep -P $server || echo $server)" | tr -d ' ')"

kill -TERM "$(pgrep -P $server || echo $server)"
code=0; wait $server || code=$?
[ $code = 0 ] || { echo "exit code $code after SIGTERM"; cat "$log"; exit 1; }
grep -q '^{"Timestamp":"[^"]*","EventId":' "$log" || { echo "logs are not JSON"; head -5 "$log"; exit 1; }
if grep -E '"LogLevel":"(Warning|Error|Critical)"' "$log"; then echo "the start or the stop logged the above"; exit 1; fi
echo "SIGTERM: exit 0, JSON logs, no warning: ok"
