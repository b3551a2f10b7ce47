#!/usr/bin/env bash
# Static-file throughput of itkd next to nginx (Debian package), same machine, same
# fixture, one run: 1 KiB keep-alive, 1 KiB Connection: close, 100 KiB keep-alive, and
# HTTPS (keep-alive, a new TLS connection per request), there also next to Apache mpm-itk.
# Loopback only. Every server shares the machine's cores with wrk; compare ratios.
# Usage (root): bench/static.sh [seconds per run, default 10] [runs, default 3]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/apache_mpm.sh
. "$top/bench/apache_mpm.sh"
secs=${1:-10}
runs=${2:-3}
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
"$top/scripts/install-deps.sh"
for p in wrk nginx-light apache2 libapache2-mpm-itk; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null
done
dir=$("$top/scripts/build.sh" release | tail -n 1)
work=$(mktemp -d /tmp/itkd-bench.XXXXXX)
chmod 755 "$work"
out="$top/bench/results/$(date +%Y-%m-%d)"
mkdir -p "$out"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Fixture: two owners, docroots 0750 owned by each.
for o in alice:61001 bob:61002; do
  name=${o%%:*}; uid=${o##*:}
  mkdir -p "$work/$name/www"
  head -c 1024 /dev/urandom | base64 -w0 | head -c 1024 > "$work/$name/www/1k.html"
  head -c 102400 /dev/urandom > "$work/$name/www/100k.bin"
  chown -R "$uid:$uid" "$work/$name"
  chmod 750 "$work/$name"
done
mkdir -p "$work/empty" "$work/logs" "$work/tls"
# One self-signed certificate for alice.test; the key is alice's, mode 0600 (itkd's
# worker reads it as alice). nginx's master reads it as root.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=alice.test" -addext "subjectAltName=DNS:alice.test" \
  -keyout "$work/alice/alice.key" -out "$work/tls/alice.pem" 2>/dev/null
chown 61001:61001 "$work/alice/alice.key"
chmod 600 "$work/alice/alice.key"

itkd_port=$(free_port)
itkd_tls_port=$(free_port)
cat > "$work/itkd.conf" <<CONF
Listen 127.0.0.1:$itkd_port
Listen 127.0.0.1:$itkd_tls_port https
User #61000
Group #61000
FrontUser nobody
FrontGroup nogroup
FrontChroot $work/empty
ErrorLog $work/logs/itkd-error.log
DocumentRoot $work/empty
MaxKeepAliveRequests 0
<VirtualHost *:$itkd_port>
  ServerName alice.test
  DocumentRoot $work/alice/www
  AssignUserID #61001 #61001
  CustomLog $work/logs/alice.log combined
</VirtualHost>
<VirtualHost *:$itkd_port>
  ServerName bob.test
  DocumentRoot $work/bob/www
  AssignUserID #61002 #61002
  CustomLog $work/logs/bob.log combined
</VirtualHost>
<VirtualHost *:$itkd_tls_port>
  ServerName alice.test
  DocumentRoot $work/alice/www
  AssignUserID #61001 #61001
  SSLEngine on
  SSLCertificateFile $work/tls/alice.pem
  SSLCertificateKeyFile $work/alice/alice.key
  CustomLog $work/logs/alice.log combined
</VirtualHost>
CONF
"$dir/src/itkd" -f "$work/itkd.conf" 2>"$work/logs/itkd.stderr" &
pids+=($!)

# nginx must read every owner's files, so its workers run as a user in both owners'
# groups: exactly the isolation it lacks.
nginx_port=$(free_port)
nginx_tls_port=$(free_port)
getent group 61001 >/dev/null || groupadd -g 61001 itkdbenchalice
getent group 61002 >/dev/null || groupadd -g 61002 itkdbenchbob
getent group 61003 >/dev/null || groupadd -g 61003 itkdbenchnginx
id itkdbenchnginx >/dev/null 2>&1 || useradd -r -u 61003 -g 61003 -M -s /usr/sbin/nologin itkdbenchnginx
usermod -a -G "$(getent group 61001 | cut -d: -f1),$(getent group 61002 | cut -d: -f1)" itkdbenchnginx
cat > "$work/nginx.conf" <<CONF
user itkdbenchnginx;
worker_processes auto;
pid $work/nginx.pid;
error_log $work/logs/nginx-error.log;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log $work/logs/nginx-access.log combined;
  sendfile on; tcp_nopush on; keepalive_requests 1000000;
  server { listen 127.0.0.1:$nginx_port; server_name alice.test; root $work/alice/www; }
  server { listen 127.0.0.1:$nginx_tls_port ssl; server_name alice.test; root $work/alice/www;
           ssl_certificate $work/tls/alice.pem; ssl_certificate_key $work/alice/alice.key;
           ssl_protocols TLSv1.2 TLSv1.3; }
  server { listen 127.0.0.1:$nginx_port; server_name bob.test; root $work/bob/www; }
}
CONF
nginx -c "$work/nginx.conf" -g 'daemon off;' &
pids+=($!)

# Apache mpm-itk with mod_ssl for the HTTPS rows: alice's vhost as alice (AssignUserID),
# the key read by the root parent, a fork per connection, as an mpm-itk host runs it.
getent passwd 61001 >/dev/null || useradd -r -u 61001 -g 61001 -M -s /usr/sbin/nologin itkdbench-alice
alice_user=$(getent passwd 61001 | cut -d: -f1)
apache_tls_port=$(free_port)
mkdir -p "$work/apache/run"
cat > "$work/apache/apache2.conf" <<CONF
ServerName localhost
ServerRoot $work/apache
PidFile $work/apache/httpd.pid
DefaultRuntimeDir $work/apache/run
Mutex file:$work/apache/run default
ErrorLog $work/logs/apache-itk-error.log
LogLevel warn
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule mpm_itk_module /usr/lib/apache2/modules/mpm_itk.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so
LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so
TypesConfig /etc/mime.types
User itkdbenchnginx
Group itkdbenchnginx
Listen 127.0.0.1:$apache_tls_port https
$(apache_mpm_lines)
SSLSessionCache shmcb:$work/apache/run/ssl_scache(512000)
SSLProtocol -all +TLSv1.2 +TLSv1.3
LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined
<Directory />
  AllowOverride None
  Require all denied
</Directory>
<VirtualHost 127.0.0.1:$apache_tls_port>
  ServerName alice.test
  DocumentRoot $work/alice/www
  <Directory $work/alice/www>
    Require all granted
  </Directory>
  SSLEngine on
  SSLCertificateFile $work/tls/alice.pem
  SSLCertificateKeyFile $work/alice/alice.key
  AssignUserID $alice_user $(id -gn "$alice_user")
  CustomLog $work/logs/apache-itk-access.log combined
</VirtualHost>
CONF
setsid apache2 -f "$work/apache/apache2.conf" -DFOREGROUND > "$work/logs/apache-itk.stderr" 2>&1 &
pids+=($!)

for i in $(seq 50); do
  grep -q "resuming normal operations" "$work/logs/itkd-error.log" 2>/dev/null && break
  sleep 0.1
done
sleep 0.5

run_wrk() {  # port path extra-header [scheme] -> median req/s of $runs runs
  local port=$1 path=$2 header=$3 scheme=${4:-http} vals=()
  # wrk sends the IP as SNI, which itkd (and nginx) treat as no SNI: the port's default
  # vhost, alice's, answers.
  local host=127.0.0.1
  wrk -t1 -c32 -d2s -H "Host: alice.test" ${header:+-H "$header"} "$scheme://$host:$port$path" >/dev/null 2>&1
  for r in $(seq "$runs"); do
    v=$(wrk -t1 -c32 -d"${secs}s" -H "Host: alice.test" ${header:+-H "$header"} "$scheme://$host:$port$path" 2>&1 |
        awk '/Requests\/sec/ {print $2}')
    vals+=("${v:-0}")
  done
  printf '%s\n' "${vals[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.0f %.0f %.0f", a[int((NR+1)/2)], a[1], a[NR]}'
}

{
  echo "# itkd vs nginx, static files and HTTPS ($(date -u +%FT%TZ))"
  echo
  echo "wrk -t1 -c32 -d${secs}s, median of $runs (min-max), loopback; servers and wrk share $(nproc) cores."
  echo
  echo "Apache mpm-itk (mod_ssl, \`AssignUserID\`, a fork per connection) runs the HTTPS rows only."
  echo
  echo "| workload | itkd req/s | nginx req/s | itkd/nginx | Apache mpm-itk req/s | itkd/mpm-itk |"
  echo "|---|---:|---:|---:|---:|---:|"
  for w in "1 KiB keep-alive|/1k.html||http" "1 KiB Connection: close|/1k.html|Connection: close|http" \
           "100 KiB keep-alive|/100k.bin||http" "HTTPS 1 KiB keep-alive|/1k.html||https" \
           "HTTPS new TLS connection per request|/1k.html|Connection: close|https"; do
    IFS='|' read -r name path header scheme <<<"$w"
    ip=$itkd_port np=$nginx_port
    [ "$scheme" = https ] && ip=$itkd_tls_port np=$nginx_tls_port
    read -r i_med i_min i_max <<<"$(run_wrk "$ip" "$path" "$header" "$scheme")"
    read -r n_med n_min n_max <<<"$(run_wrk "$np" "$path" "$header" "$scheme")"
    ratio=$(awk -v a="$i_med" -v b="$n_med" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    a_cell="—" a_ratio="—"
    if [ "$scheme" = https ]; then
      read -r a_med a_min a_max <<<"$(run_wrk "$apache_tls_port" "$path" "$header" "$scheme")"
      a_cell="$a_med ($a_min-$a_max)"
      a_ratio=$(awk -v a="$i_med" -v b="$a_med" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    fi
    echo "| $name | $i_med ($i_min-$i_max) | $n_med ($n_min-$n_max) | $ratio | $a_cell | $a_ratio |"
  done
} | tee "$out/static.md"
