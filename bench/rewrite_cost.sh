#!/usr/bin/env bash
# What mod_rewrite costs per request: one itkd, one owner, three vhosts on the same
# docroot: no rules; WordPress's <Directory> block (every request stats its file); and ten
# vhost-level rules of the usual kinds (redirects, [F] guards, pretty URLs) that don't
# match. wrk takes turns between them (the machine is shared and drifts), and the
# owner's worker CPU per request is read from /proc/PID/stat of its processes before and
# after each run. A fourth row is WordPress's pretty URL, rewritten to a static index.html
# by an internal redirect; the fifth the same URL through FallbackResource instead.
# The last three are .htaccess: AllowOverride All over a docroot without any file (the
# stat per directory level alone), and WordPress's block read from the docroot's
# .htaccess, for a file and for a pretty URL. Loopback only.
# Usage (root): bench/rewrite_cost.sh [SECS] [RUNS]
# HOLD=secs keeps the server up before the runs, for perf by hand.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-5}
runs=${2:-3}
uid=61001
build=${ITKD_BUILD_DIR:-$("$top/scripts/build.sh" release | tail -n 1)}
work=$(mktemp -d /tmp/itkd-rewrite.XXXXXX)
chmod 755 "$work"
pid=
cleanup() {
  [ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/www/wp-content" "$work/empty" "$work/logs"
head -c 1024 /dev/urandom | base64 -w 0 | head -c 1024 > "$work/www/1k.html"
echo "front page" > "$work/www/index.html"
cp -r "$work/www" "$work/www-nofile"
cat > "$work/www/.htaccess" <<'HT'
# BEGIN WordPress
<IfModule mod_rewrite.c>
RewriteEngine On
RewriteBase /
RewriteRule ^index\.html$ - [L]
RewriteCond %{REQUEST_FILENAME} !-f
RewriteCond %{REQUEST_FILENAME} !-d
RewriteRule . /index.html [L]
</IfModule>
# END WordPress
HT
chown -R "$uid:$uid" "$work/www" "$work/www-nofile"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
vhost() {  # name, extra lines[, docroot]
  printf '<VirtualHost *:%s>\n  ServerName %s\n  DocumentRoot %s\n  AssignUserID #%s #%s\n%s</VirtualHost>\n' \
    "$port" "$1" "${3:-$work/www}" "$uid" "$uid" "$2"
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
# Workers stay between runs (a worker leaving mid-run would take its CPU time along).
PoolIdleTimeout 3600
CONF
  vhost plain.test ""
  vhost wp.test "  <Directory $work/www>
    RewriteEngine On
    RewriteBase /
    RewriteRule ^index\\.html\$ - [L]
    RewriteCond %{REQUEST_FILENAME} !-f
    RewriteCond %{REQUEST_FILENAME} !-d
    RewriteRule . /index.html [L]
  </Directory>
"
  vhost fallback.test "  FallbackResource /index.html
"
  vhost override.test "  <Directory $work/www-nofile>
    AllowOverride All
  </Directory>
" "$work/www-nofile"
  vhost htaccess.test "  <Directory $work/www>
    AllowOverride All
  </Directory>
"
  vhost rules.test "  RewriteEngine On
  RewriteCond %{HTTP_HOST} ^www\\.(.+)\$ [NC]
  RewriteRule ^/?(.*)\$ http://%1/\$1 [R=301,L]
  RewriteCond %{HTTP_USER_AGENT} (BadBot|EvilScraper) [NC]
  RewriteRule .* - [F]
  RewriteRule \\.(sql|bak|old|swp)\$ - [F]
  RewriteRule ^/wp-config\\.php - [F]
  RewriteRule ^/post/(\\d+)/?\$ /index.html?p=\$1 [QSA,L]
  RewriteRule ^/category/([\\w-]+)/?\$ /index.html?cat=\$1 [QSA,L]
  RewriteRule ^/feed/?\$ /index.html?feed=rss2 [L]
  RewriteCond %{QUERY_STRING} (<|%3C).*script [NC]
  RewriteRule .* - [F]
  RewriteRule ^/old/(.*)\$ /new/\$1 [R=301,L]
  RewriteRule ^/retired/ - [G]
"
} > "$work/itkd.conf"
setsid "$build/src/itkd" -f "$work/itkd.conf" > "$work/logs/stderr" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -s -o /dev/null -H "Host: plain.test" "http://127.0.0.1:$port/1k.html" && break; sleep 0.1; done
[ "$(curl -s -H 'Host: wp.test' "http://127.0.0.1:$port/2026/11/hello/")" = "front page" ] ||
  { echo "the WordPress rules did not rewrite; error log:" >&2; cat "$work/logs/error.log" >&2; exit 1; }
[ "$(curl -s -H 'Host: htaccess.test' "http://127.0.0.1:$port/2026/11/hello/")" = "front page" ] ||
  { echo "the WordPress .htaccess did not rewrite; error log:" >&2; cat "$work/logs/error.log" >&2; exit 1; }
if [ -n "${HOLD:-}" ]; then  # keep it up for profiling by hand
  echo "itkd on 127.0.0.1:$port (hosts plain.test wp.test rules.test fallback.test override.test htaccess.test), owner uid $uid; holding ${HOLD}s" >&2
  sleep "$HOLD"
fi
ticks=$(getconf CLK_TCK)
owner_ticks() {  # CPU ticks of every process of the owner (the pool's workers)
  local t=0 p
  for p in $(pgrep -u "$uid" || true); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
rows=("plain.test /1k.html" "wp.test /1k.html" "rules.test /1k.html" "wp.test /2026/11/hello/"
      "fallback.test /2026/11/hello/" "override.test /1k.html" "htaccess.test /1k.html"
      "htaccess.test /2026/11/hello/")
for row in "${rows[@]}"; do
  read -r host path <<< "$row"
  wrk -t1 -c32 -d2s -H "Host: $host" "http://127.0.0.1:$port$path" > /dev/null
done
declare -A rps cpu
for run in $(seq "$runs"); do
  for row in "${rows[@]}"; do
    read -r host path <<< "$row"
    t0=$(owner_ticks)
    out=$(wrk -t1 -c32 -d"${secs}s" -H "Host: $host" "http://127.0.0.1:$port$path")
    t1=$(owner_ticks)
    n=$(awk '/requests in/ {print $1}' <<< "$out")
    rps[$row]+="$(awk '/Requests\/sec/ {print $2}' <<< "$out") "
    cpu[$row]+="$(awk -v t=$((t1 - t0)) -v n="$n" -v hz="$ticks" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }') "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base_rps=$(median <<< "${rps[plain.test /1k.html]}")
printf '%-26s %10s %8s %22s\n' row "req/s" "ratio" "worker cpu us/req (runs)"
for row in "${rows[@]}"; do
  r=$(median <<< "${rps[$row]}")
  printf '%-26s %10.0f %8.2f %22s\n' "$row" "$r" "$(awk -v a="$r" -v b="$base_rps" 'BEGIN {print a / b}')" "${cpu[$row]}"
done
