#!/usr/bin/env bash
# What OwnerConfinement (Landlock) costs per request: one itkd, two owners with identical
# sites, alice (uid 61001) confined and bob (61002) with OwnerConfinement Off. wrk takes
# turns between them (the machine is shared and drifts); each owner's CPU per request
# (its workers and its php-cgi processes) is read from /proc/PID/stat before and after
# each run. Rows: static 1 KiB keep-alive and Connection: close, hello.php through
# managed php-cgi keep-alive. Loopback only.
# Usage (root): bench/confinement_cost.sh [SECS] [RUNS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-5}
runs=${2:-3}
build=${ITKD_BUILD_DIR:-$("$top/scripts/build.sh" release | tail -n 1)}
# Not under /tmp: every owner may use /tmp, so a tree there would be granted twice.
work=$(mktemp -d /var/tmp/itkd-confinement.XXXXXX)
chmod 755 "$work"
pid=
cleanup() {
  [ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/empty" "$work/logs"
for o in alice:61001 bob:61002; do
  name=${o%%:*} uid=${o##*:}
  mkdir -p "$work/$name/www"
  head -c 1024 /dev/zero | tr '\0' x > "$work/$name/www/1k.html"
  echo '<?php echo "hello from ", posix_geteuid(), "\n";' > "$work/$name/www/hello.php"
  chown -R "$uid:$uid" "$work/$name"
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
vhost() {  # name, uid, confinement
  printf '<VirtualHost *:%s>\n  ServerName %s.test\n  DocumentRoot %s/%s/www\n  AssignUserID #%s #%s\n' \
    "$port" "$1" "$work" "$1" "$2" "$2"
  printf '  OwnerConfinement %s\n  AddHandler fcgid-script .php\n  FcgidWrapper /usr/bin/php-cgi .php\n' "$3"
  printf '  FcgidMaxProcessesPerClass 4\n  <Directory %s/%s/www>\n    Options +ExecCGI\n  </Directory>\n' "$work" "$1"
  printf '</VirtualHost>\n'
}
{
  cat <<CONF
Listen 127.0.0.1:$port
User #61000
Group #61000
FrontUser nobody
FrontGroup nogroup
FrontChroot $work/empty
ErrorLog $work/logs/error.log
PidFile $work/itkd.pid
DocumentRoot $work/empty
MaxKeepAliveRequests 0
PoolIdleTimeout 3600
CONF
  vhost alice 61001 On
  vhost bob 61002 Off
} > "$work/itkd.conf"
setsid "$build/src/itkd" -f "$work/itkd.conf" > "$work/logs/stderr" 2>&1 &
pid=$!
for h in alice bob; do
  for _ in $(seq 100); do curl -s -o /dev/null -H "Host: $h.test" "http://127.0.0.1:$port/1k.html" && break; sleep 0.1; done
done
[ "$(curl -s -H 'Host: alice.test' "http://127.0.0.1:$port/hello.php")" = "hello from 61001" ] ||
  { echo "alice's PHP did not answer; error log:" >&2; cat "$work/logs/error.log" >&2; exit 1; }
ticks=$(getconf CLK_TCK)
owner_ticks() {  # CPU ticks of every process of uid $1
  local t=0 p
  for p in $(pgrep -u "$1" || true); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
loads=("/1k.html keepalive" "/1k.html close" "/hello.php keepalive")
run_wrk() {  # host path mode secs
  if [ "$3" = close ]; then
    wrk -t1 -c32 -d"$4s" -H "Host: $1" -H "Connection: close" "http://127.0.0.1:$port$2"
  else
    wrk -t1 -c32 -d"$4s" -H "Host: $1" "http://127.0.0.1:$port$2"
  fi
}
for load in "${loads[@]}"; do
  read -r path mode <<< "$load"
  for h in alice bob; do run_wrk "$h.test" "$path" "$mode" 2 > /dev/null; done
done
declare -A rps cpu
for run in $(seq "$runs"); do
  for load in "${loads[@]}"; do
    read -r path mode <<< "$load"
    # Each owner goes first every other run: the second of a pair meets a warmer machine.
    owners="alice:61001 bob:61002"
    [ $((run % 2)) = 0 ] && owners="bob:61002 alice:61001"
    for o in $owners; do
      name=${o%%:*} uid=${o##*:}
      t0=$(owner_ticks "$uid")
      out=$(run_wrk "$name.test" "$path" "$mode" "$secs")
      t1=$(owner_ticks "$uid")
      n=$(awk '/requests in/ {print $1}' <<< "$out")
      rps[$load $name]+="$(awk '/Requests\/sec/ {print $2}' <<< "$out") "
      cpu[$load $name]+="$(awk -v t=$((t1 - t0)) -v n="$n" -v hz="$ticks" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }') "
    done
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-22s %12s %12s %8s %24s %24s\n' load "confined r/s" "open r/s" ratio "confined cpu us/req" "open cpu us/req"
for load in "${loads[@]}"; do
  a=$(median <<< "${rps[$load alice]}")
  b=$(median <<< "${rps[$load bob]}")
  printf '%-22s %12.0f %12.0f %8.2f %24s %24s\n' "$load" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN {print a / b}')" \
    "${cpu[$load alice]}" "${cpu[$load bob]}"
done
