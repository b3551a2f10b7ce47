#!/usr/bin/env bash
# Sets up and runs the demo: itkd serving two owners' sites, alice (uid 61001) and bob
# (uid 61002), on 127.0.0.1:${PORT:-8080}, each site served by a worker running as its
# owner. Runs in the foreground; Ctrl-C stops it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
port=${PORT:-8080}
demo=${DEMO_DIR:-/var/tmp/itkd-demo}
if [ "$(id -u)" != 0 ]; then
  echo "the demo starts the root master: run it as root" >&2
  exit 1
fi
"$top/scripts/install-deps.sh"
dir=$("$top/scripts/build.sh" release | tail -n 1)

rm -rf "$demo"
mkdir -p "$demo"/{logs,empty,conf.d} "$demo"/alice/www "$demo"/bob/www/docs
chmod 755 "$demo"
cat > "$demo/alice/www/index.html" <<HTML
<h1>alice's site</h1><p>Served by a worker running as uid 61001.</p>
HTML
cat > "$demo/bob/www/index.html" <<HTML
<h1>bob's site</h1><p>Served by a worker running as uid 61002.</p>
HTML
echo "bob's private notes" > "$demo/bob/www/docs/notes.txt"
echo "alice's secret" > "$demo/alice/secret.txt"
# A symlink in bob's site into alice's home: alice's 0750 home stops bob's worker.
ln -s "$demo/alice/secret.txt" "$demo/bob/www/steal.txt"
chown -R 61001:61001 "$demo/alice"
chown -R 61002:61002 "$demo/bob"
chmod 750 "$demo/alice" "$demo/bob"

cat > "$demo/itkd.conf" <<CONF
# itkd demo: two owners, Apache syntax.
Listen 127.0.0.1:$port
User #61000
Group #61000
FrontUser nobody
FrontGroup nogroup
FrontChroot $demo/empty
ErrorLog $demo/logs/error.log
LogLevel info
PidFile $demo/logs/itkd.pid
DocumentRoot $demo/empty
IncludeOptional $demo/conf.d/*.conf
CONF
cat > "$demo/conf.d/alice.conf" <<CONF
<VirtualHost *:$port>
    ServerName alice.example
    ServerAlias www.alice.example
    DocumentRoot $demo/alice/www
    AssignUserID #61001 #61001
    CustomLog $demo/logs/alice.access.log combined
</VirtualHost>
CONF
cat > "$demo/conf.d/bob.conf" <<CONF
<VirtualHost *:$port>
    ServerName bob.example
    DocumentRoot $demo/bob/www
    AssignUserID #61002 #61002
    <Directory $demo/bob/www/docs>
        Options +Indexes
    </Directory>
    CustomLog $demo/logs/bob.access.log combined
</VirtualHost>
CONF

"$dir/src/itkd" -t -f "$demo/itkd.conf"
cat <<HELP

itkd is starting on 127.0.0.1:$port (logs in $demo/logs). Try, in another shell:

  curl -H 'Host: alice.example' http://127.0.0.1:$port/
  curl -H 'Host: bob.example'   http://127.0.0.1:$port/
  curl -H 'Host: bob.example'   http://127.0.0.1:$port/docs/          # a directory listing
  curl -H 'Host: bob.example'   http://127.0.0.1:$port/steal.txt      # 403: alice's file
  curl http://127.0.0.1:$port/ -H 'Host: alice.example' --next http://127.0.0.1:$port/ -H 'Host: bob.example'
                                                  # one connection, two owners
  ps -o pid,user,group,args --ppid \$(cat $demo/logs/itkd.pid)   # each pool runs as its owner

Ctrl-C stops the server.
HELP
exec "$dir/src/itkd" -f "$demo/itkd.conf"
