#!/usr/bin/env bash
# What RemoteIPProxyProtocol costs per connection: one itkd, one owner, two listeners on
# the same vhost and docroot, one of them with the PROXY header required. wrk opens a
# new connection per request (Connection: close), and on the PROXY listener its Lua
# script puts a v1 header before each request, as a balancer does once per connection.
# Runs take turns. Loopback only.
# Usage (root): bench/proxy_protocol_cost.sh [SECS] [RUNS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-5}
runs=${2:-3}
uid=61001
build=${ITKD_BUILD_DIR:-$("$top/scripts/build.sh" release | tail -n 1)}
work=$(mktemp -d /tmp/itkd-proxy.XXXXXX)
chmod 755 "$work"
pid=
cleanup() {
  [ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/www" "$work/empty" "$work/logs"
head -c 1024 /dev/zero | tr '\0' x > "$work/www/1k.html"
chown -R "$uid:$uid" "$work/www"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
plain=$(free_port)
proxied=$(free_port)
cat > "$work/itkd.conf" <<CONF
Listen 127.0.0.1:$plain
Listen 127.0.0.1:$proxied
User #61000
Group #61000
FrontUser nobody
FrontGroup nogroup
FrontChroot $work/empty
ErrorLog $work/logs/error.log
PidFile $work/itkd.pid
DocumentRoot $work/empty
PoolIdleTimeout 3600
<VirtualHost *:$plain *:$proxied>
  ServerName site.test
  DocumentRoot $work/www
  AssignUserID #$uid #$uid
</VirtualHost>
<VirtualHost *:$proxied>
  ServerName lb.test
  RemoteIPProxyProtocol On
  DocumentRoot $work/www
  AssignUserID #$uid #$uid
</VirtualHost>
CONF
cat > "$work/proxy.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  return string.format("PROXY TCP4 203.0.113.%d 192.0.2.1 %d 443\r\n", n % 250 + 1, 1024 + n % 60000) ..
    "GET /1k.html HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n"
end
LUA
setsid "$build/src/itkd" -f "$work/itkd.conf" > "$work/logs/stderr" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -s -o /dev/null -H "Host: site.test" "http://127.0.0.1:$plain/1k.html" && break; sleep 0.1; done
[ "$(curl -s -o /dev/null -w '%{http_code}' --haproxy-protocol -H 'Host: site.test' "http://127.0.0.1:$proxied/1k.html")" = 200 ] ||
  { echo "the PROXY listener did not answer; error log:" >&2; cat "$work/logs/error.log" >&2; exit 1; }
run_row() {  # plain|proxy secs
  if [ "$1" = proxy ]; then
    wrk -t1 -c32 -d"$2s" -s "$work/proxy.lua" "http://127.0.0.1:$proxied/"
  else
    wrk -t1 -c32 -d"$2s" -H "Host: site.test" -H "Connection: close" "http://127.0.0.1:$plain/1k.html"
  fi
}
for row in plain proxy; do run_row "$row" 2 > /dev/null; done
declare -A rps
for run in $(seq "$runs"); do
  for row in plain proxy; do
    out=$(run_row "$row" "$secs")
    grep -q "Non-2xx" <<< "$out" && { echo "$row: non-2xx answers" >&2; echo "$out" >&2; exit 1; }
    rps[$row]+="$(awk '/Requests\/sec/ {print $2}' <<< "$out") "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
p=$(median <<< "${rps[plain]}")
x=$(median <<< "${rps[proxy]}")
printf '%-30s %10s %24s\n' row "req/s" "runs"
printf '%-30s %10.0f %24s\n' "close, no header" "$p" "${rps[plain]}"
printf '%-30s %10.0f %24s\n' "close, PROXY v1 header" "$x" "${rps[proxy]}"
printf 'ratio %.2f\n' "$(awk -v a="$x" -v b="$p" 'BEGIN {print a / b}')"
