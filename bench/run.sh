#!/usr/bin/env bash
# Side-by-side benchmark of itkd against what a shared host would pick instead: Apache
# prefork + mod_php (no isolation), Apache mpm-itk + mod_php, nginx + one php-fpm pool per
# owner, h2o (static). Same two-owner fixture for all, all on 127.0.0.1 and on the same
# cores as wrk: compare the ratios, not the absolute numbers. Every server runs for the
# whole benchmark and the runs of a workload take turns between them (one wrk at a time).
# Usage (root): [SECS=10] [RUNS=3] [SCALE=1] bench/run.sh
#   ITKD_BUILD_DIR=dir  use an existing build instead of scripts/build.sh release
#   ONLY="itkd nginx h2o apache-prefork apache-itk floor"  run only these servers (default all;
#     floor = bench/floor/floor_server.cc, the least a server must do, in two shapes)
#   OUT=DIR  write results there instead of bench/results/<date>
#   ROWS="static-1k-close php-close"  run only these workloads (default all; names as in
#     results.tsv) -- for comparing two builds on a few rows, not for a summary to publish
#   HOLD=SECS  before the rows, keep the started servers up this long and list their ports
#     and pids in OUT/servers.tsv, to profile them by hand (perf, strace)
# Writes bench/results/<date>/summary.md and the raw wrk outputs next to it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/apache_mpm.sh
. "$top/bench/apache_mpm.sh"
secs=${SECS:-10}
runs=${RUNS:-3}
[ "$(id -u)" = 0 ] || { echo "bench/run.sh: run as root (it installs packages and starts servers as other users)" >&2; exit 1; }

# Peers from Debian packages. policy-rc.d keeps the packages' own services from starting
# on port 80 if this machine has none.
pkgs=(wrk nginx-light php-fpm php-cgi apache2 libapache2-mpm-itk libapache2-mod-php python3 curl)
have_h2o=0
h2o_policy=$(apt-cache policy h2o 2>/dev/null || true)
if [[ $h2o_policy =~ Candidate:\ [0-9] ]]; then pkgs+=(h2o); have_h2o=1; fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  policy_added=0
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; policy_added=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  [ "$policy_added" = 0 ] || rm -f /usr/sbin/policy-rc.d
fi
[ -x "$top/scripts/install-deps.sh" ] && "$top/scripts/install-deps.sh" >/dev/null
if [ -n "${ITKD_BUILD_DIR:-}" ]; then build=$ITKD_BUILD_DIR; else build=$("$top/scripts/build.sh" release | tail -n 1); fi
itkd=$build/src/itkd
[ -x "$itkd" ] || { echo "bench/run.sh: no itkd binary at $itkd; build it with scripts/build.sh release" >&2; exit 1; }
fpm=$(ls /usr/sbin/php-fpm* | head -n 1)
phpmod=$(ls /usr/lib/apache2/modules/libphp*.so | head -n 1)

out=${OUT:-"$top/bench/results/$(date +%Y-%m-%d)"}
mkdir -p "$out/raw"
work=$(mktemp -d /tmp/itkd-bench.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/logs" "$work/empty" "$work/run-php"
: > "$out/results.tsv"
: > "$out/memory.tsv"
notes=()
[ "$have_h2o" = 1 ] || notes+=("h2o: no Debian candidate (apt-cache policy h2o); its column is empty.")

# Every server starts in its own session (setsid): Apache's parent signals its whole
# process group when it stops, which would otherwise include this script.
# Every pid we start is listed here; cleanup stops them and their descendants only.
pids=()
tree() {  # pid -> pid and all its descendants
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { kids[$2] = kids[$2] " " $1 }
    END { n = 1; q[1] = root; for (i = 1; i <= n; i++) { print q[i]; m = split(kids[q[i]], k, " ");
          for (j = 1; j <= m; j++) q[++n] = k[j] } }'
}
stop() {  # stop one pid we started: SIGTERM, up to 15 s, then SIGKILL it and its tree
  local p=$1 all t0=$SECONDS
  all=$(tree "$p")
  kill "$p" 2>/dev/null || true
  for _ in $(seq 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && notes+=("pid $p ($(tr '\0' ' ' < "/proc/$p/cmdline" | cut -c1-60)) still ran 15 s after SIGTERM; killed.")
  [ $((SECONDS - t0)) -ge 3 ] && notes+=("pid $p took $((SECONDS - t0)) s to stop after SIGTERM.")
  for q in $all; do kill -9 "$q" 2>/dev/null || true; done
  wait "$p" 2>/dev/null || true
}
cleanup() {
  set +e
  for p in "${pids[@]}"; do stop "$p"; done
  # Keep the servers' logs next to the results (access logs can be large: only their tail).
  mkdir -p "$out/logs"
  for f in "$work"/logs/*; do [ -f "$f" ] && tail -c 200000 "$f" > "$out/logs/${f##*/}"; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pss_kib() {  # pids... -> summed PSS in KiB of their process trees
  local sum=0 v
  for root in "$@"; do
    for p in $(tree "$root"); do
      v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || true)
      sum=$((sum + ${v:-0}))
    done
  done
  echo "$sum"
}
wait_http() {  # port host -> waits until the server answers (10 s)
  for _ in $(seq 100); do
    curl -s -o /dev/null -m 1 -H "Host: $2" "http://127.0.0.1:$1/1k.html" && return 0
    sleep 0.1
  done
  echo "bench/run.sh: nothing answers on 127.0.0.1:$1 (see $work/logs)" >&2
  return 1
}

# Fixture: two owners with their own uid, homes 0750. nginx, h2o and Apache prefork must
# read every owner's files, so they run as itkdbenchnginx, a member of both owners' groups:
# exactly the isolation they lack.
getent group 61003 >/dev/null || groupadd -g 61003 itkdbenchnginx
id -u 61003 >/dev/null 2>&1 || getent passwd 61003 >/dev/null || useradd -r -u 61003 -g 61003 -M -s /usr/sbin/nologin itkdbenchnginx
web=$(getent passwd 61003 | cut -d: -f1)
declare -A owner_name
for o in alice:61001 bob:61002; do
  name=${o%%:*}; uid=${o##*:}
  getent group "$uid" >/dev/null || groupadd -g "$uid" "itkdbench$name"
  getent passwd "$uid" >/dev/null || useradd -r -u "$uid" -g "$uid" -M -s /usr/sbin/nologin "itkdbench-$name"
  owner_name[$name]=$(getent passwd "$uid" | cut -d: -f1)
  usermod -a -G "$(getent group "$uid" | cut -d: -f1)" "$web"
  mkdir -p "$work/$name/www"
  head -c 768 /dev/urandom | base64 -w0 | head -c 1024 > "$work/$name/www/1k.html"
  head -c 102400 /dev/urandom > "$work/$name/www/100k.bin"
  printf '<?php echo posix_geteuid(), "\\n";\n' > "$work/$name/www/hello.php"
  chown -R "$uid:$uid" "$work/$name"
  chmod 750 "$work/$name"
done

# 50/50 owner mix: each request the thread sends names the other owner than its last one.
cat > "$work/mix.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  local host = (n % 2 == 0) and "alice.test" or "bob.test"
  if wrk.headers["X-Bench-Suffix"] then host = host:gsub("%.test$", wrk.headers["X-Bench-Suffix"]) end
  return wrk.format("GET", wrk.path, { Host = host })
end
LUA

# Servers are measured in turn, not one after the other: for each workload, run 1 of every
# server, then run 2 of every server, ... The machine is shared, and its load drifts over
# minutes; interleaved, a slow minute hits every server of a row alike instead of one.
declare -A port_of pss_of  # server label -> its port; -> the pids whose trees make its PSS
# run_once WORKLOAD SERVER PORT HOST PATH HEADER MIX-SUFFIX RUN -> raw/<server>.<workload>.run<RUN>
run_once() {
  local wl=$1 srv=$2 port=$3 host=$4 path=$5 header=$6 mix=$7 r=$8
  local raw="$out/raw/${srv}.${wl}" args=(-t1 -c32 --latency --timeout 10s -H "Host: $host")
  [ -n "$header" ] && args+=(-H "$header")
  [ -n "$mix" ] && args+=(-s "$work/mix.lua" -H "X-Bench-Suffix: $mix")
  # The warm-up comes right before a server's first run, not minutes earlier.
  [ "$r" = 1 ] && { timeout 30 wrk "${args[@]}" -d2s "http://127.0.0.1:$port$path" > "$raw.warmup" 2>&1 || true; }
  timeout $((secs + 30)) wrk "${args[@]}" -d"${secs}s" "http://127.0.0.1:$port$path" > "$raw.run$r" 2>&1 || true
  if [ "$r" = "$runs" ]; then
    # shellcheck disable=SC2086  # pss_of holds a list of pids
    printf '%s\t%s\t%s\t%s\n' "$wl" "$srv" "$raw" "$(pss_kib ${pss_of[$srv]})" >> "$out/results.tsv"
  fi
  echo "  run $r $srv $wl: $(awk '/Requests\/sec/ {print $2}' "$raw.run$r") req/s" >&2
}
# row WORKLOAD PATH HEADER MIX(0|1) SERVER/HOST-SUFFIX... -> every run of every server
row() {
  local wl=$1 path=$2 header=$3 mix=$4 r s srv suffix; shift 4
  [ -z "${ROWS:-}" ] || [[ " $ROWS " == *" $wl "* ]] || return 0
  for r in $(seq "$runs"); do
    for s in "$@"; do
      srv=${s%%/*}; suffix=${s#*/}
      run_once "$wl" "$srv" "${port_of[$srv]}" "alice$suffix" "$path" "$header" "$([ "$mix" = 1 ] && echo "$suffix")" "$r"
    done
  done
}
memory() {  # SERVER STATE PIDS... -> memory.tsv line
  local srv=$1 state=$2; shift 2
  printf '%s\t%s\t%s\n' "$srv" "$state" "$(pss_kib "$@")" >> "$out/memory.tsv"
}
check_php() {  # PORT HOST EXPECTED-UID -> note if hello.php doesn't answer with the owner's uid
  local got
  got=$(curl -s -m 5 -H "Host: $2" "http://127.0.0.1:$1/hello.php" || true)
  [ "$got" = "$3" ] || notes+=("$2 on port $1: hello.php answered '${got:0:60}', expected euid $3.")
}

# php-fpm: one master, one pool per owner running as the owner. The socket belongs to the
# owner (itkd's worker connects as the owner) with group itkdbenchnginx (nginx).
{
  echo "[global]"; echo "pid = $work/fpm.pid"; echo "error_log = $work/logs/fpm.log"; echo "daemonize = no"
  for name in alice bob; do
    cat <<FPM
[$name]
user = ${owner_name[$name]}
group = $(id -gn "${owner_name[$name]}")
listen = $work/run-php/$name.sock
listen.owner = ${owner_name[$name]}
listen.group = $web
listen.mode = 0660
pm = static
pm.max_children = 4
pm.max_requests = 0
FPM
  done
} > "$work/fpm.conf"
setsid "$fpm" -y "$work/fpm.conf" -F > "$work/logs/fpm.stderr" 2>&1 &
fpm_pid=$!
pids+=("$fpm_pid")
for _ in $(seq 100); do [ -S "$work/run-php/bob.sock" ] && [ -S "$work/run-php/alice.sock" ] && break; sleep 0.1; done

want() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }
# Every server is started first and keeps running to the end; rows list the servers (with
# the host suffix their PHP vhosts use) that serve them.
static_servers=(); php_servers=()
if want itkd; then
echo "starting itkd" >&2
port=$(free_port)
cat > "$work/itkd.conf" <<CONF
Listen 127.0.0.1:$port
User #61000
Group #61000
FrontUser nobody
FrontGroup nogroup
FrontChroot $work/empty
ErrorLog $work/logs/itkd-error.log
PidFile $work/itkd.pid
DocumentRoot $work/empty
MaxKeepAliveRequests 0
# The servers take turns, so each waits a minute or more between its runs; with the default
# 60 s an idle pool's workers (and their php-cgi processes) would leave in between and every
# run would start cold, which no busy site sees. The other servers keep their processes.
PoolIdleTimeout 3600
CONF
for o in alice:61001 bob:61002; do
  name=${o%%:*}; uid=${o##*:}
  cat >> "$work/itkd.conf" <<CONF
<VirtualHost *:$port>
  ServerName $name.test
  DocumentRoot $work/$name/www
  AssignUserID #$uid #$uid
  <Directory $work/$name/www>
    Options +ExecCGI
  </Directory>
  AddHandler fcgid-script .php
  FcgidWrapper /usr/bin/php-cgi .php
  FcgidMaxProcessesPerClass 4
  FcgidMaxRequestsPerProcess 0
  CustomLog $work/logs/itkd-$name.log combined
</VirtualHost>
<VirtualHost *:$port>
  ServerName $name.fpm
  DocumentRoot $work/$name/www
  AssignUserID #$uid #$uid
  <FilesMatch \.php$>
    SetHandler "proxy:unix:$work/run-php/$name.sock|fcgi://localhost"
  </FilesMatch>
  CustomLog $work/logs/itkd-$name-fpm.log combined
</VirtualHost>
CONF
done
setsid "$itkd" -f "$work/itkd.conf" > "$work/logs/itkd.stderr" 2>&1 &
itkd_pid=$!
pids+=("$itkd_pid")
wait_http "$port" alice.test
check_php "$port" alice.test 61001; check_php "$port" bob.fpm 61002
curl -s -o /dev/null -H "Host: bob.test" "http://127.0.0.1:$port/hello.php" || true
memory itkd idle "$itkd_pid"
port_of[itkd]=$port; port_of[itkd-fcgid]=$port; port_of[itkd-fpm]=$port
pss_of[itkd]=$itkd_pid; pss_of[itkd-fcgid]=$itkd_pid; pss_of[itkd-fpm]="$itkd_pid $fpm_pid"
static_servers+=(itkd/.test); php_servers+=(itkd-fcgid/.test itkd-fpm/.fpm)
fi

if want nginx; then
echo "starting nginx" >&2
port=$(free_port)
{
  cat <<CONF
user $web;
worker_processes auto;
pid $work/nginx.pid;
error_log $work/logs/nginx-error.log;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log $work/logs/nginx-access.log combined;
  sendfile on; tcp_nopush on; keepalive_requests 1000000;
  client_body_temp_path $work/nginx-tmp; fastcgi_temp_path $work/nginx-tmp; proxy_temp_path $work/nginx-tmp;
  uwsgi_temp_path $work/nginx-tmp; scgi_temp_path $work/nginx-tmp;
CONF
  for name in alice bob; do
    cat <<CONF
  server {
    listen 127.0.0.1:$port; server_name $name.test; root $work/$name/www;
    location ~ \.php\$ {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
      fastcgi_pass unix:$work/run-php/$name.sock;
    }
  }
CONF
  done
  echo "}"
} > "$work/nginx.conf"
mkdir -p "$work/nginx-tmp"
setsid nginx -c "$work/nginx.conf" -g 'daemon off;' > "$work/logs/nginx.stderr" 2>&1 &
nginx_pid=$!
pids+=("$nginx_pid")
wait_http "$port" alice.test
check_php "$port" alice.test 61001; check_php "$port" bob.test 61002
memory nginx+fpm idle "$nginx_pid" "$fpm_pid"
port_of[nginx]=$port; port_of[nginx-fpm]=$port
pss_of[nginx]="$nginx_pid $fpm_pid"; pss_of[nginx-fpm]="$nginx_pid $fpm_pid"
static_servers+=(nginx/.test); php_servers+=(nginx-fpm/.test)
fi

if [ "$have_h2o" = 1 ] && want h2o; then
  echo "starting h2o" >&2
  port=$(free_port)
  cat > "$work/h2o.conf" <<CONF
user: $web
pid-file: $work/h2o/h2o.pid
error-log: $work/logs/h2o-error.log
access-log: $work/logs/h2o-access.log
listen:
  host: 127.0.0.1
  port: $port
hosts:
  "alice.test":
    paths:
      "/":
        file.dir: $work/alice/www
  "bob.test":
    paths:
      "/":
        file.dir: $work/bob/www
CONF
  # h2o writes its pid file after dropping root.
  mkdir -p "$work/h2o" && chown "$web" "$work/h2o"
  setsid h2o -c "$work/h2o.conf" > "$work/logs/h2o.stderr" 2>&1 &
  h2o_pid=$!
  pids+=("$h2o_pid")
  wait_http "$port" alice.test
  memory h2o idle "$h2o_pid"
  port_of[h2o]=$port; pss_of[h2o]=$h2o_pid
  static_servers+=(h2o/.test)
fi

# Apache with only the modules this needs; mpm_itk is loaded on top of mpm_prefork as
# Debian's mpm_itk.load says ("Depends: mpm_prefork").
apache() {  # KIND (prefork|itk) -> starts apache2 in the foreground, sets port and apache_pid
  local kind=$1 d="$work/apache-$1"
  port=$(free_port)
  mkdir -p "$d/run"
  {
    cat <<CONF
ServerName localhost
ServerRoot $d
PidFile $d/httpd.pid
DefaultRuntimeDir $d/run
Mutex file:$d/run default
ErrorLog $work/logs/apache-$kind-error.log
LogLevel warn
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
CONF
    [ "$kind" = itk ] && echo "LoadModule mpm_itk_module /usr/lib/apache2/modules/mpm_itk.so"
    cat <<CONF
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
LoadModule php_module $phpmod
TypesConfig /etc/mime.types
User $web
Group $web
Listen 127.0.0.1:$port
$(apache_mpm_lines)
LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined
<Directory />
  AllowOverride None
  Require all denied
</Directory>
CONF
    for o in alice:61001 bob:61002; do
      local name=${o%%:*}
      cat <<CONF
<VirtualHost 127.0.0.1:$port>
  ServerName $name.test
  DocumentRoot $work/$name/www
  <Directory $work/$name/www>
    Require all granted
  </Directory>
  <FilesMatch \.php$>
    SetHandler application/x-httpd-php
  </FilesMatch>
  CustomLog $work/logs/apache-$kind-$name.log combined
CONF
      [ "$kind" = itk ] && echo "  AssignUserID ${owner_name[$name]} $(id -gn "${owner_name[$name]}")"
      echo "</VirtualHost>"
    done
  } > "$d/apache2.conf"
  setsid apache2 -f "$d/apache2.conf" -DFOREGROUND > "$work/logs/apache-$kind.stderr" 2>&1 &
  apache_pid=$!
  pids+=("$apache_pid")
}
declare -A apache_pid_of
for kind in prefork itk; do
  want "apache-$kind" || continue
  echo "starting apache $kind" >&2
  apache "$kind"
  apache_pid_of[$kind]=$apache_pid
  wait_http "$port" alice.test
  if [ "$kind" = itk ]; then check_php "$port" alice.test 61001; check_php "$port" bob.test 61002; fi
  memory "apache-$kind" idle "$apache_pid"
  port_of[apache-$kind]=$port; pss_of[apache-$kind]=$apache_pid
  static_servers+=("apache-$kind/.test"); php_servers+=("apache-$kind/.test")
done

# The floor: bench/floor/floor_server.cc answers every request with the same 1 KiB and
# does nothing else. "floor" serves every host from one process per core (no isolation);
# "floor-switch" has itkd's shape (fronts that pass each socket to a worker of the owner
# its Host names, and take it back when the next request names the other owner) and
# nothing more; "floor-peer" lets workers pass a socket straight to the other owner's
# worker, which itkd's invariant 4 forbids. What they reach is what this machine allows.
floor_servers=(); floor_php_servers=()
if want floor; then
  echo "starting the floor servers" >&2
  g++ -std=c++20 -O2 -o "$work/floor_server" "$top/bench/floor/floor_server.cc"
  for mode in direct switch switch-peer; do
    port=$(free_port)
    setsid "$work/floor_server" "$port" "$mode" > "$work/logs/floor-$mode.stderr" 2>&1 &
    floor_pid=$!
    pids+=("$floor_pid")
    wait_http "$port" alice.test
    case $mode in direct) srv=floor ;; switch) srv=floor-switch ;; *) srv=floor-peer ;; esac
    port_of[$srv]=$port; pss_of[$srv]=$floor_pid
    floor_servers+=("$srv/.test")
  done
  # php-fpm's floor: each request one FastCGI request to alice's pool, as nginx sends it.
  port=$(free_port)
  setsid "$work/floor_server" "$port" fpm "$work/run-php/alice.sock" "$work/alice/www/hello.php" 61003 61003 \
    > "$work/logs/floor-fpm.stderr" 2>&1 &
  floor_pid=$!
  pids+=("$floor_pid")
  wait_http "$port" alice.test
  check_php "$port" alice.test 61001
  port_of[floor-fpm]=$port; pss_of[floor-fpm]="$floor_pid $fpm_pid"
  floor_php_servers=(floor-fpm/.test)
fi

if [ -n "${HOLD:-}" ]; then
  for srv in "${!port_of[@]}"; do printf '%s\t%s\t%s\n' "$srv" "${port_of[$srv]}" "${pss_of[$srv]}"; done > "$out/servers.tsv"
  echo "holding the servers for $HOLD s (ports and pids in $out/servers.tsv)" >&2
  sleep "$HOLD"
fi
echo "static rows: ${static_servers[*]}" >&2
row static-1k-ka /1k.html "" 0 "${static_servers[@]}" "${floor_servers[@]}"
row static-1k-close /1k.html "Connection: close" 0 "${static_servers[@]}" "${floor_servers[@]}"
row static-100k-ka /100k.bin "" 0 "${static_servers[@]}"
row mix-static-1k-ka /1k.html "" 1 "${static_servers[@]}" "${floor_servers[@]}"
if want itkd; then
  memory itkd after-static "$itkd_pid"
  # One warm static-only worker (it has served only static files so far): the largest PSS
  # among them, what one more active owner costs.
  worker_max=0
  for p in $(tree "$itkd_pid"); do
    grep -qa -- "--role=worker" "/proc/$p/cmdline" 2>/dev/null || continue
    v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    [ "${v:-0}" -gt "$worker_max" ] && worker_max=$v
  done
  printf '%s\t%s\t%s\n' itkd one-static-worker "$worker_max" >> "$out/memory.tsv"
fi
echo "PHP rows: ${php_servers[*]}" >&2
row php-ka /hello.php "" 0 "${php_servers[@]}" "${floor_php_servers[@]}"
row php-close /hello.php "Connection: close" 0 "${php_servers[@]}" "${floor_php_servers[@]}"
row mix-php-ka /hello.php "" 1 "${php_servers[@]}"

want itkd && { memory itkd after-load "$itkd_pid"; memory itkd+fpm after-load "$itkd_pid" "$fpm_pid"; stop "$itkd_pid"; }
want nginx && { memory nginx+fpm after-load "$nginx_pid" "$fpm_pid"; stop "$nginx_pid"; }
[ "$have_h2o" = 1 ] && want h2o && { memory h2o after-load "$h2o_pid"; stop "$h2o_pid"; }
for s in "${floor_servers[@]}" "${floor_php_servers[@]}"; do p=${pss_of[${s%%/*}]}; stop "${p%% *}"; done
for kind in "${!apache_pid_of[@]}"; do
  memory "apache-$kind" after-load "${apache_pid_of[$kind]}"
  stop "${apache_pid_of[$kind]}"
done

stop "$fpm_pid"
if [ "${SCALE:-1}" = 1 ]; then
  echo "tenant scale" >&2
  "$top/bench/scale.sh" "$itkd" "$out" || notes+=("bench/scale.sh failed; see $out/scale.md")
fi
printf '%s\n' "${notes[@]}" > "$out/notes.txt"
python3 "$top/bench/summary.py" "$out" "$secs" "$runs" "$(nproc)" > "$out/summary.md"
echo "wrote $out/summary.md" >&2
