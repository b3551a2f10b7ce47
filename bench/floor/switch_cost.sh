#!/usr/bin/env bash
# What an owner switch costs when nothing else is done: runs floor_server in each shape
# (direct, switch, switch-peer) under wrk, single-owner and owners alternating, and prints
# req/s with the server's CPU time and context switches per request, read from
# /proc/PID/stat and /proc/PID/status of every process of the server before and after.
# Loopback only. Usage (root): bench/floor/switch_cost.sh [SECS] [SHAPE...]
#   SHAPE: "direct", "switch F W", "switch-peer F W" (default: the three at one per core)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-5}
shift || true
shapes=("$@")
[ ${#shapes[@]} -gt 0 ] || shapes=("direct" "switch" "switch-peer")
work=$(mktemp -d /tmp/itkd-floor.XXXXXX)
pid=
cleanup() {
  [ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
g++ -std=c++20 -O2 -o "$work/floor_server" "$here/floor_server.cc"
cat > "$work/mix.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", wrk.path, { Host = (n % 2 == 0) and "alice.test" or "bob.test" })
end
LUA
ticks=$(getconf CLK_TCK)
# tree totals: "cpu_ticks context_switches" over the server's children
totals() {
  local t=0 c=0 p
  for p in $(ps -o pid= --ppid "$pid"); do
    read -r u s < <(awk '{print $14, $15}' "/proc/$p/stat" 2>/dev/null || echo "0 0")
    t=$((t + u + s))
    c=$((c + $(awk '/ctxt_switches/ {n += $2} END {print n + 0}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  echo "$t $c"
}
printf '%-18s %-7s %10s %12s %14s\n' shape load req/s "cpu us/req" "switches/req"
for shape in "${shapes[@]}"; do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # shellcheck disable=SC2086  # a shape is a mode and its numbers
  setsid "$work/floor_server" "$port" $shape > "$work/stderr" 2>&1 &
  pid=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  wrk -t1 -c32 -d2s -H "Host: alice.test" "http://127.0.0.1:$port/" > /dev/null
  for load in single mix; do
    args=(-t1 -c32 -d"${secs}s" -H "Host: alice.test")
    [ "$load" = mix ] && args+=(-s "$work/mix.lua")
    read -r t0 c0 < <(totals)
    out=$(wrk "${args[@]}" "http://127.0.0.1:$port/")
    read -r t1 c1 < <(totals)
    n=$(awk '/requests in/ {print $1}' <<< "$out")
    rps=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
    awk -v s="$shape" -v l="$load" -v r="$rps" -v n="$n" -v t=$((t1 - t0)) -v c=$((c1 - c0)) -v hz="$ticks" \
      'BEGIN { printf "%-18s %-7s %10.0f %12.1f %14.2f\n", s, l, r, t * 1e6 / hz / n, c / n }'
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done
