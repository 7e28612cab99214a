#!/usr/bin/env bash
# The README's test command: the whole suite once per transport of the Frames endpoint, the default (the epoll
# transport on Linux) and then Kestrel's sockets (Frames__Transport=Sockets reaches every server the tests start,
# in-process or not, through the environment). Arguments go to both runs of `dotnet test`.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet test "$@"
if [ "$(uname -s)" = Linux ]; then
  echo "test.sh: the suite again, on Kestrel's socket transport"
  Frames__Transport=Sockets dotnet test --no-build "$@"
fi
