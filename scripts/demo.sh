#!/usr/bin/env bash
# Sets up and runs the demo: itkd serving two owners' sites, alice (uid 61001) and bob
# (uid 61002), on 127.0.0.1:${PORT:-8080}, each site served by a worker running as its
# owner. Runs in the foreground; Ctrl-C stops it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
port=${PORT:-8080}
tls_port=${TLS_PORT:-8443}
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
# alice runs PHP (persistent php-cgi processes of her own, mod_fcgid style); bob a CGI.
cat > "$demo/alice/www/hello.php" <<'PHP'
<?php
printf("Hello from PHP, running as uid %d (pid %d)\n", posix_geteuid(), getmypid());
printf("posix_setuid(0) %s\n", @posix_setuid(0) ? "WORKED (bad!)" : "refused");
// bob's vhost config is world-readable (as /etc/apache2/sites-enabled is), but not
// among alice's paths: OwnerConfinement (Landlock) keeps her code out.
$conf = "@DEMO@/conf.d/bob.conf";
printf("reading %s: %s\n", $conf, @file_get_contents($conf) === false ? "refused" : "WORKED (bad!)");
// OwnerPrivateTmp: this /tmp is @DEMO@/owner-tmp/61001, no other owner's.
file_put_contents("/tmp/alice-was-here", date("c"));
printf("my /tmp holds: %s\n", implode(" ", array_diff(scandir("/tmp"), [".", ".."])));
PHP
sed -i "s|@DEMO@|$demo|" "$demo/alice/www/hello.php"
# A blog with WordPress's pretty permalinks: the .htaccess WordPress writes, read by
# alice's worker as alice (AllowOverride below).
mkdir -p "$demo/alice/www/blog"
cat > "$demo/alice/www/blog/.htaccess" <<'HTACCESS'
# BEGIN WordPress
<IfModule mod_rewrite.c>
RewriteEngine On
RewriteBase /blog/
RewriteRule ^index\.php$ - [L]
RewriteCond %{REQUEST_FILENAME} !-f
RewriteCond %{REQUEST_FILENAME} !-d
RewriteRule . /blog/index.php [L]
</IfModule>
# END WordPress
HTACCESS
cat > "$demo/alice/www/blog/index.php" <<'PHP'
<?php
printf("Blog front controller for %s, running as uid %d\n", $_SERVER["REQUEST_URI"], posix_geteuid());
PHP
mkdir -p "$demo/bob/cgi-bin"
# The fds it lists are its own, minus the one it reads /proc/self/fd through (an `ls` in
# a shell script would show its own directory fd and the shell's pipe, not a leak).
cat > "$demo/bob/cgi-bin/whoami.cgi" <<'CGI'
#!/usr/bin/perl
opendir(my $d, "/proc/self/fd") or die "opendir: $!";
my $own = fileno($d);
my @fds = sort { $a <=> $b } grep { /^\d+$/ && $_ != $own } readdir($d);
print "Content-Type: text/plain\n\nCGI running as uid $<; open fds: @fds\n";
CGI
chmod 755 "$demo/bob/cgi-bin/whoami.cgi"
# A test CA and one certificate per owner; each key readable by its owner only.
mkdir -p "$demo/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=itkd demo CA" \
  -keyout "$demo/tls/ca.key" -out "$demo/tls/ca.pem" 2>/dev/null
for o in alice bob; do
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$o.example" -keyout "$demo/$o/$o.key" \
    -out "$demo/tls/$o.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s.example,DNS:www.%s.example\n' "$o" "$o" > "$demo/tls/$o.ext"
  openssl x509 -req -in "$demo/tls/$o.csr" -CA "$demo/tls/ca.pem" -CAkey "$demo/tls/ca.key" \
    -CAcreateserial -days 30 -extfile "$demo/tls/$o.ext" -out "$demo/tls/$o.pem" 2>/dev/null
  chmod 600 "$demo/$o/$o.key"
done
echo "alice's secret" > "$demo/alice/secret.txt"
# A symlink in bob's site into alice's home: alice's 0750 home stops bob's worker.
ln -s "$demo/alice/secret.txt" "$demo/bob/www/steal.txt"
chown -R 61001:61001 "$demo/alice"
chown -R 61002:61002 "$demo/bob"
chmod 750 "$demo/alice" "$demo/bob"

cat > "$demo/itkd.conf" <<CONF
# itkd demo: two owners, Apache syntax.
Listen 127.0.0.1:$port
Listen 127.0.0.1:$tls_port https
User #61000
Group #61000
FrontUser nobody
FrontGroup nogroup
FrontChroot $demo/empty
ErrorLog $demo/logs/error.log
LogLevel info
PidFile $demo/logs/itkd.pid
DocumentRoot $demo/empty
# Each owner's processes see only its own paths (on by default) and its own /tmp.
OwnerConfinement On
OwnerPrivateTmp On
OwnerTmpDirectory $demo/owner-tmp
IncludeOptional $demo/conf.d/*.conf
CONF
cat > "$demo/conf.d/alice.conf" <<CONF
<VirtualHost *:$port>
    ServerName alice.example
    ServerAlias www.alice.example
    DocumentRoot $demo/alice/www
    AssignUserID #61001 #61001
    AddHandler fcgid-script .php
    FcgidWrapper /usr/bin/php-cgi .php
    <Directory $demo/alice/www>
        Options +ExecCGI
        AllowOverride FileInfo AuthConfig Indexes Limit
    </Directory>
    DirectoryIndex index.html index.php
    CustomLog $demo/logs/alice.access.log combined
</VirtualHost>
<VirtualHost *:$tls_port>
    ServerName alice.example
    DocumentRoot $demo/alice/www
    AssignUserID #61001 #61001
    SSLEngine on
    SSLCertificateFile $demo/tls/alice.pem
    SSLCertificateKeyFile $demo/alice/alice.key
    Header always set Strict-Transport-Security "max-age=300"
    Header always set X-Content-Type-Options nosniff
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
    ScriptAlias /cgi-bin/ $demo/bob/cgi-bin/
    CustomLog $demo/logs/bob.access.log combined
</VirtualHost>
<VirtualHost *:$tls_port>
    ServerName bob.example
    DocumentRoot $demo/bob/www
    AssignUserID #61002 #61002
    SSLEngine on
    SSLCertificateFile $demo/tls/bob.pem
    SSLCertificateKeyFile $demo/bob/bob.key
    CustomLog $demo/logs/bob.access.log combined
</VirtualHost>
CONF

"$dir/src/itkd" -t -f "$demo/itkd.conf"
cat <<HELP

itkd is starting on 127.0.0.1:$port and, with TLS, :$tls_port (logs in $demo/logs).
Try, in another shell:

  curl -H 'Host: alice.example' http://127.0.0.1:$port/
  curl -H 'Host: bob.example'   http://127.0.0.1:$port/
  curl -H 'Host: bob.example'   http://127.0.0.1:$port/docs/          # a directory listing
  curl -H 'Host: bob.example'   http://127.0.0.1:$port/steal.txt      # 403: alice's file
  curl -H 'Host: alice.example' http://127.0.0.1:$port/hello.php      # PHP as alice
  curl -H 'Host: alice.example' http://127.0.0.1:$port/blog/2026/11/hello-world/
                                                  # WordPress's .htaccess (mod_rewrite)
  curl -H 'Host: bob.example'   http://127.0.0.1:$port/cgi-bin/whoami.cgi   # CGI as bob
  curl --cacert $demo/tls/ca.pem --resolve alice.example:$tls_port:127.0.0.1 https://alice.example:$tls_port/
  curl --cacert $demo/tls/ca.pem --resolve bob.example:$tls_port:127.0.0.1 https://bob.example:$tls_port/
  curl -sI --cacert $demo/tls/ca.pem --resolve alice.example:$tls_port:127.0.0.1 https://alice.example:$tls_port/ | grep -i strict
                                                  # alice's Header lines (mod_headers)
  curl http://127.0.0.1:$port/ -H 'Host: alice.example' --next http://127.0.0.1:$port/ -H 'Host: bob.example'
                                                  # one connection, two owners
  ps -o pid,user,group,args --ppid \$(cat $demo/logs/itkd.pid)   # each pool runs as its owner

Ctrl-C stops the server.
HELP
exec "$dir/src/itkd" -f "$demo/itkd.conf"
