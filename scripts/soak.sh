#!/usr/bin/env bash
# The soak test (issue 14, item 5). Usage: scripts/soak.sh [duration]   (default 10m; 60s, 90, 10m, 1h)
#
# Two published servers on loopback, one plain and one TLS (a certificate made for the run), with short timeouts
# so the hostile clients resolve in seconds (ReadTimeout and WriteTimeout 2 s, IdleTimeout 30 s). For the whole
# duration, at once: the bench tool pipelining verified echoes into each (16 connections x depth 8), and
# tests/KestrelFrames.Soak against both: good churn clients (connect, pipelined requests and heartbeats, every
# answer checked, close or half-close) and hostile ones (resets mid-frame and mid-answer, slowloris, oversized and
# high-bit headers, never-reading clients). Then it checks, printing each failed check on its own line:
#   - every good request answered once and correctly: the bench reports 0 errors, 0 mismatches, 0 failed
#     connects; the soak clients exit 0 (no good client saw a wrong, missing or extra answer, a status or a
#     reset, and no hostile client saw the protocol broken: wrong status, no status, a reset instead of the
#     graceful close, a slowloris or a non-reading client never cut off);
#   - what the server holds after the first minute grows by less than 5 %: at 60 s (for runs under 3 minutes, at
#     the one-third mark) and again 15 s before the load ends, each server is made to run a full, blocking
#     collection (dotnet-gcdump, a local tool of this repository, takes a heap dump) and its RSS is read, with the
#     GC heap counted at the live size the dump measured instead of at what the GC committed. Only a full
#     collection tells live objects from garbage: in 10 minutes under this load the TLS server ran none, and the
#     heap "after the last collection" rose 16 -> 22 MB of gen2 and pinned garbage. What the GC commits is its own
#     policy (even the workstation GC resizes its budget in steps); a leak grows the live heap or the memory outside
#     the GC, and both are counted. On a failure the types that grew most between the two dumps are printed. The
#     servers run on the workstation GC (SOAK_GC_SERVER=1 soaks the shipped Server GC): see below;
#   - when the clients have left: frames_active_connections back to 0; open descriptors back to at most their
#     baseline (taken after the warm-up, because the runtime keeps two descriptors per loaded assembly and TLS
#     and the abort paths load a few on first use); threads back to at most their baseline + 2 (baseline taken
#     at idle before any traffic). The .NET thread pool retires a worker after 20 s without work (measured: the
#     count is back 18-24 s after the load ends), so the script polls up to 45 s; the 2 are runtime threads that
#     come and go on an idle server (the tiered-compilation worker, a background-GC thread created on first use,
#     one more pool worker): idle counts of 19 to 21 were measured around a start-up count of 20;
#   - no Error or Critical line in either server's log (the console formatter's "fail:" and "crit:", after the
#     timestamp);
#   - /health/ready answers 200 on both, and both then exit 0 on SIGTERM.
# The one-line summary comes last. Ports: SOAK_PORT_BASE (default 19700) to +1 for frames, +10 and +11 for
# HTTP, all on 127.0.0.1. SOAK_KEEP=1 keeps the work directory (logs, JSON) even when the run passes.
set -euo pipefail
cd "$(dirname "$0")/.."

arg=${1:-10m}
case "$arg" in
  *h) duration=$(( ${arg%h} * 3600 )) ;;
  *m) duration=$(( ${arg%m} * 60 )) ;;
  *s) duration=${arg%s} ;;
  *) duration=$arg ;;
esac
[[ "$duration" =~ ^[0-9]+$ ]] && [ "$duration" -ge 30 ] || { echo "usage: soak.sh [duration], at least 30s (e.g. 60s, 10m)"; exit 2; }

started=$SECONDS
work=$(mktemp -d)
pids=()
failures=()
fail() { failures+=("$1"); echo "FAIL: $1"; }
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ ${#failures[@]} -eq 0 ] && [ "${SOAK_KEEP:-0}" != 1 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

base=${SOAK_PORT_BASE:-19700}
plain_port=$base tls_port=$((base + 1)) plain_http=$((base + 10)) tls_http=$((base + 11))
for port in $plain_port $tls_port $plain_http $tls_http; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port is in use; set SOAK_PORT_BASE"; exit 2; fi
done

hms() { printf '%02d:%02d:%02d' $(($1 / 3600)) $(($1 % 3600 / 60)) $(($1 % 60)); }
status_of() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; } # pid, field -> value (VmRSS in kB)
fds_of() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
metric() { # http port, series -> value, or "?" when the scrape fails
  curl -fsS --max-time 5 "http://127.0.0.1:$1/metrics" 2>/dev/null | awk -v s="$2" '$1 == s {v = $2} END {print (v == "" ? "?" : v + 0)}'
}
ready() { curl -fsS --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/health/ready" 2>/dev/null || true; }
json_number() { sed -n "s/.*\"$2\":\\([0-9.]*\\).*/\\1/p" "$1" | head -n 1; } # file, key -> first number

echo "soak: ${duration} s; building in $work"
( bash scripts/publish.sh "$work/server" >"$work/build-server.log" 2>&1 || { cat "$work/build-server.log"; exit 1; } ) &
build_server=$!
dotnet build src/KestrelFrames.Bench -c Release -o "$work/bench" >"$work/build-bench.log" 2>&1 || { cat "$work/build-bench.log"; exit 1; }
dotnet build tests/KestrelFrames.Soak -c Release -o "$work/soak" >"$work/build-soak.log" 2>&1 || { cat "$work/build-soak.log"; exit 1; }
dotnet tool restore >"$work/tool-restore.log" 2>&1 || { cat "$work/tool-restore.log"; exit 1; }
wait $build_server
dotnet "$work/soak/KestrelFrames.Soak.dll" cert "$work/certs" >/dev/null
echo "soak: built in $((SECONDS - started)) s"

timeouts=(--Frames:ReadTimeout=00:00:02 --Frames:WriteTimeout=00:00:02 --Frames:IdleTimeout=00:00:30 --Frames:LingerTimeout=00:00:02)
# The servers run on the workstation GC. The shipped Server GC resizes its heap budget in steps of tens of MB for
# minutes under a steady load, and RSS follows it: with DATAS (its dynamic adaptation, on by default since .NET 9)
# committed memory rose 14 -> 46 MB in a 60 s run while the live heap stayed at 18-21 MB; with DATAS off it jumped
# 55 -> 122 -> 93 MB. The growth check then measures the GC's policy, not what the server holds. The workstation
# GC's budget is a few MB: committed memory is flat from about 6 s on (32 -> 34 MB in 60 s), so RSS growth after
# that is the server's own. A leak is a leak under either GC. SOAK_GC_SERVER=1 soaks the shipped Server GC.
gc=(env "DOTNET_gcServer=${SOAK_GC_SERVER:-0}")
"${gc[@]}" dotnet "$work/server/KestrelFrames.Server.dll" "${timeouts[@]}" \
  --Kestrel:Endpoints:Frames:Url=http://127.0.0.1:$plain_port --Kestrel:Endpoints:Http:Url=http://127.0.0.1:$plain_http \
  >"$work/plain.log" 2>&1 &
plain_pid=$!
pids+=($plain_pid)
"${gc[@]}" dotnet "$work/server/KestrelFrames.Server.dll" "${timeouts[@]}" \
  --Kestrel:Endpoints:Frames:Url=https://127.0.0.1:$tls_port --Kestrel:Endpoints:Http:Url=http://127.0.0.1:$tls_http \
  --Kestrel:Endpoints:Frames:Certificate:Path="$work/certs/soak-cert.pem" \
  --Kestrel:Endpoints:Frames:Certificate:KeyPath="$work/certs/soak-key.pem" \
  >"$work/tls.log" 2>&1 &
tls_pid=$!
pids+=($tls_pid)
for http in $plain_http $tls_http; do
  for _ in $(seq 1 150); do [ "$(ready $http)" = 200 ] && break; sleep 0.2; done
  [ "$(ready $http)" = 200 ] || { echo "a server did not become ready"; cat "$work/plain.log" "$work/tls.log"; exit 1; }
done
threads0=("$(status_of $plain_pid Threads)" "$(status_of $tls_pid Threads)")

soak_args=(--plain 127.0.0.1:$plain_port --tls 127.0.0.1:$tls_port --tls-cert "$work/certs/soak-cert.pem"
  --read-timeout 00:00:02 --write-timeout 00:00:02 --linger-timeout 00:00:02)
bench_args=(--connections 16 --depth 8 --warmup 0s --verify --json)

# Runs the bench against both servers and the soak clients against both, all at once, for $1 seconds; $2 names
# the output files. Exit codes land in $work/$2-*.rc.
load() {
  local seconds=$1 name=$2 p1 p2 p3 rc
  dotnet "$work/bench/KestrelFrames.Bench.dll" --port $plain_port --duration "${seconds}s" "${bench_args[@]}" \
    >"$work/$name-bench-plain.json" 2>"$work/$name-bench-plain.err" &
  p1=$!
  dotnet "$work/bench/KestrelFrames.Bench.dll" --port $tls_port --tls-insecure --duration "${seconds}s" "${bench_args[@]}" \
    >"$work/$name-bench-tls.json" 2>"$work/$name-bench-tls.err" &
  p2=$!
  dotnet "$work/soak/KestrelFrames.Soak.dll" "${soak_args[@]}" --duration "$(hms "$seconds")" \
    >"$work/$name-soak.json" 2>"$work/$name-soak.err" &
  p3=$!
  pids+=($p1 $p2 $p3)
  rc=0; wait $p1 || rc=$?; echo $rc >"$work/$name-bench-plain.rc"
  rc=0; wait $p2 || rc=$?; echo $rc >"$work/$name-bench-tls.rc"
  rc=0; wait $p3 || rc=$?; echo $rc >"$work/$name-soak.rc"
}

# Waits (up to $1 s) until both servers have no frame connection open and their descriptor counts held still for
# a second; prints how long it took.
quiet() {
  local limit=$1 t a b f1 f2 g1 g2
  for ((t = 0; t < limit; t++)); do
    a=$(metric $plain_http frames_active_connections); b=$(metric $tls_http frames_active_connections)
    f1=$(fds_of $plain_pid); f2=$(fds_of $tls_pid)
    if [ "$a" = 0 ] && [ "$b" = 0 ] && [ "$f1" = "${g1:-}" ] && [ "$f2" = "${g2:-}" ]; then echo "$t"; return 0; fi
    g1=$f1 g2=$f2
    sleep 1
  done
  echo "$limit"
  return 1
}

# Warm-up: every client kind once, so what the servers load on first use is loaded before the baselines.
load 3 warmup
for f in warmup-bench-plain warmup-bench-tls warmup-soak; do
  [ "$(cat "$work/$f.rc")" = 0 ] || fail "warm-up: $f exited $(cat "$work/$f.rc"): $(tail -n 3 "$work/$f.err" | tr '\n' ' ')"
done
quiet 30 >/dev/null || fail "warm-up: connections still open 30 s after the warm-up clients left"
fds0=("$(fds_of $plain_pid)" "$(fds_of $tls_pid)")
ls -l "/proc/$plain_pid/fd" >"$work/plain-fds.before" 2>/dev/null || true
ls -l "/proc/$tls_pid/fd" >"$work/tls-fds.before" 2>/dev/null || true
echo "soak: baselines plain rss $(($(status_of $plain_pid VmRSS) / 1024)) MB, fds ${fds0[0]}, threads ${threads0[0]};" \
  "tls rss $(($(status_of $tls_pid VmRSS) / 1024)) MB, fds ${fds0[1]}, threads ${threads0[1]}"

# What the GC held after its last collection (all generations, LOH and pinned heap), of that the pinned heap, then
# the transport pool's blocks in use and kept idle, and the memory the GC has committed, in kB: when RSS grows,
# these tell a managed leak from GC headroom, native memory or pool growth.
gc_of() {
  curl -fsS --max-time 5 "http://127.0.0.1:$1/metrics" 2>/dev/null | awk '
    /^system_runtime_dotnet_gc_last_collection_heap_size\{/ { all += $2; if ($1 ~ /"poh"/) poh = $2 }
    /^frames_memory_pool_bytes\{state="rented"\}/ { rented = $2 }
    /^frames_memory_pool_bytes\{state="pooled"\}/ { pooled = $2 }
    /^system_runtime_dotnet_gc_last_collection_memory_committed_size / { committed = $2 }
    END { printf "%d %d %d %d %d", all / 1024, poh / 1024, rented / 1024, pooled / 1024, committed / 1024 }'
}

# Every 2 s while the load runs: milliseconds, then RSS (kB) of plain and tls, then gc_of for plain and tls.
# Bounded by the duration in case the stop file never comes.
sampler() {
  local t0 now i
  t0=$(date +%s%N)
  for ((i = 0; i <= duration / 2 + 30; i++)); do
    [ -e "$work/stop-sampling" ] && return 0
    now=$(date +%s%N)
    echo "$(( (now - t0) / 1000000 )) $(status_of $plain_pid VmRSS) $(status_of $tls_pid VmRSS)" \
      "$(gc_of $plain_http) $(gc_of $tls_http)" >>"$work/rss.samples"
    sleep 2
  done
}
# A full, blocking collection in server $2 (dotnet-gcdump's heap dump makes one), then one line in kB: RSS, gc_of
# (now after that collection), and the live heap the dump measured. $1 names the dump, $3 is the HTTP port.
snapshot() {
  local file="$work/$1.gcdump" live
  dotnet tool run dotnet-gcdump collect -p "$2" -o "$file" >"$work/$1.gcdump.log" 2>&1 || { echo "?"; return 0; }
  dotnet tool run dotnet-gcdump report "$file" >"$work/$1.types" 2>&1 || { echo "?"; return 0; }
  live=$(awk '/GC Heap bytes/ { gsub(",", "", $1); print int($1 / 1024); exit }' "$work/$1.types")
  echo "$(status_of "$2" VmRSS) $(gc_of "$3") ${live:-?}"
}
ref=$(( duration >= 180 ? 60 : duration / 3 ))
end_mark=$(( duration - 15 ))
snapshots() {
  local t0=$SECONDS
  sleep $ref
  snapshot plain-ref $plain_pid $plain_http >"$work/plain.ref"
  snapshot tls-ref $tls_pid $tls_http >"$work/tls.ref"
  sleep $(( end_mark - (SECONDS - t0) > 0 ? end_mark - (SECONDS - t0) : 0 ))
  snapshot plain-end $plain_pid $plain_http >"$work/plain.end"
  snapshot tls-end $tls_pid $tls_http >"$work/tls.end"
}
sampler &
sampler_pid=$!
pids+=($sampler_pid)
snapshots &
snapshots_pid=$!
pids+=($snapshots_pid)
load_started=$SECONDS
load "$duration" main
touch "$work/stop-sampling"
wait $sampler_pid || true
wait $snapshots_pid || true
echo "soak: load ran $((SECONDS - load_started)) s"

# Every good request answered once and correctly.
for target in plain tls; do
  j="$work/main-bench-$target.json"
  rc=$(cat "$work/main-bench-$target.rc")
  errors=$(json_number "$j" errors) mismatches=$(json_number "$j" mismatches) failed=$(json_number "$j" failed_connects)
  requests=$(json_number "$j" requests)
  if [ "$rc" != 0 ] || [ "${errors:-x}" != 0 ] || [ "${mismatches:-x}" != 0 ] || [ "${failed:-x}" != 0 ] || [ "${requests:-0}" = 0 ]; then
    fail "bench $target: exit $rc, requests ${requests:-?}, errors ${errors:-?}, mismatches ${mismatches:-?}, failed connects ${failed:-?} $(sed -n 's/.*"first_error":"\([^"]*\)".*/(first error: \1)/p' "$j")"
  fi
done
soak_rc=$(cat "$work/main-soak.rc")
if [ "$soak_rc" != 0 ]; then
  fail "soak clients exited $soak_rc"
  sed 's/^/  /' "$work/main-soak.err" | grep -v '^  soak clients: [0-9]* s,' | tail -n 30
elif grep -q '^soak clients: note' "$work/main-soak.err"; then
  grep '^soak clients: note' "$work/main-soak.err" | sed 's/^/  /'
fi

# What the server holds grows by less than 5 % from the reference mark to 15 s before the end, each measured right
# after a full collection (see the top): RSS less what the GC committed plus the live heap. For each server: that
# growth, the raw RSS growth, then reference -> end in MB of RSS, the live heap, the memory the GC committed, and
# the transport pool's blocks in use and idle. On a failure, the types whose live bytes grew most.
rss_growth=()
for name in plain tls; do
  read -r rr hr _ ur ir cr lr <"$work/$name.ref" || true
  read -r re he _ ue ie ce le <"$work/$name.end" || true
  if [ -z "${lr:-}" ] || [ -z "${le:-}" ] || [ "$lr" = "?" ] || [ "$le" = "?" ]; then
    rss_growth+=("?")
    fail "$name: no heap dump at $( [ -z "${lr:-}" ] || [ "$lr" = "?" ] && echo "the ${ref} s mark" || echo "the end"): $(tail -n 2 "$work/$name-ref.gcdump.log" "$work/$name-end.gcdump.log" 2>/dev/null | tr '\n' ' ')"
    continue
  fi
  line=$(awk -v rr=$rr -v re=$re -v cr=$cr -v ce=$ce -v lr=$lr -v le=$le -v ur=$ur -v ue=$ue -v ir=$ir -v ie=$ie 'BEGIN {
    printf "%+.1f (RSS %+.1f %%) %d -> %d MB; live heap %.1f -> %.1f MB, committed %d -> %d MB; pool in use %d -> %d MB, idle %d -> %d MB\n",
      ((re - ce + le) - (rr - cr + lr)) * 100 / rr, (re - rr) * 100 / rr, rr / 1024, re / 1024, lr / 1024, le / 1024,
      cr / 1024, ce / 1024, ur / 1024, ue / 1024, ir / 1024, ie / 1024 }')
  rss_growth+=("${line%% *}")
  echo "soak: $name held ${line} (after a full collection at ${ref} s and at ${end_mark} s)"
  if awk -v g="${line%% *}" 'BEGIN { exit !(g >= 5) }'; then
    fail "$name: held memory (RSS, the GC heap at its live size) grew ${line%% *} % from the ${ref} s mark to the end (limit 5 %); the types that grew most:"
    # The report's rows: size of one object, count, type. Growth of size x count per type, largest first.
    awk 'FNR == 1 { f++ } $1 ~ /^[0-9,]+$/ && $2 ~ /^[0-9,]+$/ { b = $1; c = $2; gsub(",", "", b); gsub(",", "", c); $1 = $2 = ""; sub(/ \[.*/, ""); sub(/ \(Bytes > [^)]*\)/, ""); d[$0] += (f == 1 ? -1 : 1) * b * c }
      END { for (t in d) if (d[t] > 0) printf "%12d %s\n", d[t], t }' "$work/$name-ref.types" "$work/$name-end.types" | sort -rn | head -n 8 | sed 's/^/  /'
  fi
done

# The clients have left: connections, descriptors and threads come back.
for pid in $plain_pid $tls_pid; do kill -0 $pid 2>/dev/null || fail "a server (pid $pid) is no longer running"; done
settle_started=$SECONDS
quiet 30 >/dev/null || true
settled=0
for ((t = 0; t < 45; t++)); do
  f1=$(fds_of $plain_pid) f2=$(fds_of $tls_pid)
  h1=$(status_of $plain_pid Threads) h2=$(status_of $tls_pid Threads)
  if [ "$f1" -le "${fds0[0]}" ] && [ "$f2" -le "${fds0[1]}" ] && [ "$h1" -le $((threads0[0] + 2)) ] && [ "$h2" -le $((threads0[1] + 2)) ]; then
    settled=1
    break
  fi
  sleep 1
done
settle_s=$((SECONDS - settle_started))
active=("$(metric $plain_http frames_active_connections)" "$(metric $tls_http frames_active_connections)")
# Every live answer ring (after the clients left: the stuck connections' only) with its two signals and its
# connection, field by field: which loop waits for what, and whether the ring was completed (dotnet-dump's SOS).
queue_state() {
  local tool=$1 dump=$2 q fields f addr
  for q in $("$tool" analyze "$dump" -c "dumpheap -short -type KestrelFrames.Connections.ResponseQueue" -c exit 2>/dev/null | grep -E '^[0-9a-f]{8,}$' | head -n 8); do
    fields=$("$tool" analyze "$dump" -c "dumpobj $q" -c exit 2>/dev/null)
    echo "$fields"
    for f in _published _released _connection; do
      addr=$(awk -v f="$f" '$NF == f { print $(NF-1) }' <<<"$fields")
      [ -n "$addr" ] && "$tool" analyze "$dump" -c "dumpobj $addr" -c exit 2>/dev/null | grep -vE '^Loading|^$'
    done
  done
}

fd_delta=$(( f1 - fds0[0] ))/$(( f2 - fds0[1] )) thread_delta=$(( h1 - threads0[0] ))/$(( h2 - threads0[1] ))
if [ "${active[0]}" != 0 ] || [ "${active[1]}" != 0 ]; then
  fail "frames_active_connections is ${active[0]} (plain) and ${active[1]} (tls) after the clients left, not 0"
  # A connection that outlives its client is stuck somewhere no timeout reaches: its stacks say where, and they are
  # gone once SIGTERM's shutdown timeout aborts it. dotnet-stack and dotnet-dump when installed (dotnet tool install -g ...).
  stack_tool=$(command -v dotnet-stack || echo "$HOME/.dotnet/tools/dotnet-stack")
  if [ -x "$stack_tool" ]; then
    "$stack_tool" report -p "$plain_pid" >"$work/plain-stacks.txt" 2>&1 || true
    "$stack_tool" report -p "$tls_pid" >"$work/tls-stacks.txt" 2>&1 || true
    echo "  managed stacks of both servers: $work/plain-stacks.txt, $work/tls-stacks.txt"
  fi
  # A stuck connection is usually a parked await, on no thread's stack: the heap's async state machines show it.
  dump_tool=$(command -v dotnet-dump || echo "$HOME/.dotnet/tools/dotnet-dump")
  if [ -x "$dump_tool" ]; then
    for name in plain tls; do
      pid_var=${name}_pid
      "$dump_tool" collect -p "${!pid_var}" -o "$work/$name.dmp" >/dev/null 2>&1 || continue
      "$dump_tool" analyze "$work/$name.dmp" -c "dumpasync --coalesce" -c exit >"$work/$name-async.txt" 2>&1 || true
      queue_state "$dump_tool" "$work/$name.dmp" >"$work/$name-queues.txt" 2>&1 || true
      rm -f "$work/$name.dmp"
    done
    echo "  awaiting async state machines of both servers: $work/plain-async.txt, $work/tls-async.txt"
    echo "  their connections' answer rings, signals and flags: $work/plain-queues.txt, $work/tls-queues.txt"
  fi
fi
if [ $settled = 0 ]; then
  fail "not back to baseline ${settle_s} s after the clients left: fds ${f1}/${f2} (baseline ${fds0[0]}/${fds0[1]}), threads ${h1}/${h2} (baseline ${threads0[0]}/${threads0[1]}, 2 allowed over) (plain/tls)"
  for pid in $plain_pid $tls_pid; do
    echo "  threads of $pid: $(cat /proc/$pid/task/*/comm 2>/dev/null | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
  done
  ls -l "/proc/$plain_pid/fd" 2>/dev/null | diff "$work/plain-fds.before" - | grep '^>' | head -n 10 | sed 's/^/  plain new fd: /' || true
  ls -l "/proc/$tls_pid/fd" 2>/dev/null | diff "$work/tls-fds.before" - | grep '^>' | head -n 10 | sed 's/^/  tls new fd: /' || true
fi

# No Error or Critical log line; still ready.
for name in plain tls; do
  # The plain formatter starts each entry with a timestamp, then the level.
  bad=$(grep -cE '^([^ ]+ )?(fail|crit):' "$work/$name.log" || true)
  if [ "$bad" != 0 ]; then
    fail "$name: $bad Error/Critical log lines; the first:"
    grep -m 3 -A 6 -E '^([^ ]+ )?(fail|crit):' "$work/$name.log" | sed 's/^/  /'
  fi
done
for http in $plain_http $tls_http; do
  code=$(ready $http)
  [ "$code" = 200 ] || fail "/health/ready on port $http answered ${code:-nothing}, not 200"
done

# A clean stop after all that.
for pid in $plain_pid $tls_pid; do kill -TERM $pid 2>/dev/null || true; done
for pid in $plain_pid $tls_pid; do
  for _ in $(seq 1 400); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  kill -0 $pid 2>/dev/null && { fail "a server (pid $pid) was still running 40 s after SIGTERM"; kill -KILL $pid; }
  rc=0; wait $pid || rc=$?
  [ $rc = 0 ] || fail "a server (pid $pid) exited $rc after SIGTERM"
done

plain_req=$(json_number "$work/main-bench-plain.json" requests) tls_req=$(json_number "$work/main-bench-tls.json" requests)
plain_errors=$(json_number "$work/main-bench-plain.json" errors) tls_errors=$(json_number "$work/main-bench-tls.json" errors)
bench_errors=$(( ${plain_errors:-0} + ${tls_errors:-0} ))
good=$(sed -n 's/.*"good":{"connections":\([0-9]*\).*/\1/p' "$work/main-soak.json")
hostile=$(sed -n 's/.*"hostile":{"connections":\([0-9]*\).*/\1/p' "$work/main-soak.json")
verdict=PASS
if [ ${#failures[@]} -gt 0 ]; then verdict=FAIL; echo "soak: logs and JSON kept in $work"; fi
human() { awk -v n="${1:-0}" 'BEGIN { if (n >= 1e6) printf "%.2fM", n / 1e6; else if (n >= 1e3) printf "%.1fk", n / 1e3; else printf "%d", n }'; }
echo "soak: $verdict ${duration} s in $((SECONDS - started)) s; plain $(human "$plain_req") req, tls $(human "$tls_req") req, ${bench_errors} errors;" \
  "churn $(human "$good") conns, hostile $(human "$hostile") conns; held ${rss_growth[0]} % / ${rss_growth[1]} %;" \
  "fds ${fd_delta}, threads ${thread_delta} after ${settle_s} s (plain/tls); ${#failures[@]} failed checks"
[ $verdict = PASS ]
