#!/usr/bin/env python3
"""PHP as the owner (issue 3): managed php-cgi through mod_fcgid's directives, and FastCGI
to per-owner php-fpm pools (SetHandler proxy:unix and ProxyPassMatch fcgi://).

The test starts one php-fpm master per owner itself (numeric uids in the pool config) and
stops it by pid. Identities are checked in /proc, not only in the bodies.
"""

import base64
import errno
import hashlib
import json
import os
import re
import signal
import subprocess
import threading
import time
import unittest

import itkd_harness as h

PHP = {
    "euid.php": b'<?php echo posix_geteuid(), " ", posix_getuid(), " ", getmypid(), "\\n";',
    "setuid.php": b'<?php var_export(posix_setuid(0)); echo " "; var_export(posix_seteuid(0));'
                  b' echo " ", posix_geteuid(), " ", posix_getuid(), "\\n";',
    "vars.php": b'<?php header("Content-Type: application/json"); echo json_encode(['
                b'"get" => $_GET, "post" => $_POST, "cookie" => $_COOKIE,'
                b'"uri" => $_SERVER["REQUEST_URI"] ?? null,'
                b'"path_info" => $_SERVER["PATH_INFO"] ?? null,'
                b'"script_name" => $_SERVER["SCRIPT_NAME"] ?? null,'
                b'"script_filename" => $_SERVER["SCRIPT_FILENAME"] ?? null,'
                b'"server_name" => $_SERVER["SERVER_NAME"] ?? null,'
                b'"proxy" => $_SERVER["HTTP_PROXY"] ?? null,'
                b'"euid" => posix_geteuid()]);',
    "upload.php": b'<?php $f = $_FILES["f"] ?? null; if (!$f) { echo "no file\\n"; exit; }'
                  b' echo $f["name"], " ", $f["size"], " ", $f["error"], " ",'
                  b' hash_file("sha256", $f["tmp_name"]), " ", dirname($f["tmp_name"]), "\\n";',
    "session.php": b'<?php session_start(); $_SESSION["n"] = ($_SESSION["n"] ?? 0) + 1;'
                   b' echo session_id(), " ", $_SESSION["n"], " ", session_save_path(), "\\n";',
    "info.php": b'<?php echo "euid=", posix_geteuid(), " pid=", getmypid(), "\\n"; phpinfo();',
    "opcache.php": b'<?php $s = opcache_get_status(false);'
                   b' echo getmypid(), " ", $s ? (int)$s["opcache_enabled"] : -1, " ",'
                   b' $s ? $s["opcache_statistics"]["hits"] : -1, " ",'
                   b' (int)opcache_is_script_cached(__FILE__), " ", posix_geteuid(), "\\n";',
    "sleep.php": b'<?php usleep(700000); echo getmypid(), "\\n";',
    "parent.php": b'<?php usleep((int)($_GET["us"] ?? 0)); echo getmypid(), " ", posix_getppid(), "\\n";',
    "slow.php": b'<?php sleep(5); echo "late\\n";',
    "busy.php": b'<?php usleep(20000); echo "ok\\n";',
    # php_value & co.: what the script sees, and whether it can loosen an admin setting.
    "ini.php": b'<?php echo ini_get("memory_limit"), "|", ini_get("open_basedir"), "|",'
               b' var_export(@ini_set("open_basedir", "/"), true), "|",'
               b' var_export(@file_get_contents("/etc/hostname") !== false, true), "|", getmypid();',
}

# An "uploaded" script in a directory where PHP is switched off.
SHELL_PHP = b'<?php echo "ran as ", posix_geteuid(), "\\n";'

# php_value & co. as an mpm-itk + mod_php vhost carries them; lim/ overrides memory_limit,
# up/ has PHP switched off (the usual guard on an uploads directory).
def php_ini_block(t):
    return (f"  php_value memory_limit 48M\n"
            f"  php_admin_value open_basedir {t.www}:/tmp\n"
            f"  <Directory {t.www}/php/lim>\n    php_value memory_limit 24M\n  </Directory>\n"
            f"  <Directory {t.www}/php/up>\n    php_admin_flag engine off\n  </Directory>\n")


# A CGI that tries to connect to a unix socket given as ?PATH and reports errno.
PL_CONNECT = b"""#!/usr/bin/perl
use Socket;
print "Content-Type: text/plain\\n\\n";
my $path = $ENV{QUERY_STRING};
socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
if (connect($s, pack_sockaddr_un($path))) { print "connected=1 errno=0\\n" }
else { print "connected=0 errno=", $! + 0, "\\n" }
"""

def fpm_binary():
    return h.require_tool("/usr/sbin/php-fpm8.2", "php-fpm8.2", "php-fpm")


def fpm_conf(srv, t, tcp_port=None):
    run = os.path.join(srv.root, "run-php")
    d = os.path.join(srv.root, f"fpm-{t.name}")
    os.makedirs(d, exist_ok=True)
    pool = (f"user = {t.uid}\ngroup = {t.uid}\n"
            f"pm = static\npm.max_children = 3\n"
            f"php_admin_value[session.save_path] = {t.home}/sessions\n"
            f"php_admin_value[upload_tmp_dir] = {t.home}/tmp\n"
            f"catch_workers_output = yes\n")
    text = (f"[global]\npid = {d}/fpm.pid\nerror_log = {d}/error.log\ndaemonize = no\n"
            f"[{t.name}]\nlisten = {run}/{t.name}.sock\n"
            f"listen.owner = {t.uid}\nlisten.group = {t.uid}\nlisten.mode = 0660\n" + pool)
    if tcp_port:
        text += f"[{t.name}tcp]\nlisten = 127.0.0.1:{tcp_port}\n" + pool
        # php-fpm keeps the PHP_VALUE a request brought in its child: the php_value test
        # gets a pool of its own so its settings reach no other test.
        text += (f"[{t.name}ini]\nlisten = {run}/{t.name}-ini.sock\n"
                 f"listen.owner = {t.uid}\nlisten.group = {t.uid}\nlisten.mode = 0660\n" + pool)
    path = os.path.join(d, "fpm.conf")
    with open(path, "w") as f:
        f.write(text)
    return path, d


def start_fpms(srv):
    fpm = fpm_binary()
    h._mkdir(os.path.join(srv.root, "run-php"), 0, 0, 0o755)
    srv.fpm_port = h.free_port()
    srv.fpms = []
    for t, port in ((srv.alice, srv.fpm_port), (srv.bob, None)):
        conf, d = fpm_conf(srv, t, port)
        with open(os.path.join(d, "stderr"), "wb") as err:
            p = subprocess.Popen([fpm, "-y", conf, "-F"], stdin=subprocess.DEVNULL,
                                 stdout=err, stderr=err, close_fds=True)
        srv.fpms.append(p)
    for sock in ("alice.sock", "bob.sock", "alice-ini.sock"):
        sock = os.path.join(srv.root, "run-php", sock)
        h.wait_for(lambda: os.path.exists(sock), timeout=10, what=f"php-fpm socket {sock}")
    h.wait_for(lambda: not h.port_is_free(srv.fpm_port), timeout=10,
               what=f"php-fpm on 127.0.0.1:{srv.fpm_port}")


def stop_fpms(srv):
    for p in getattr(srv, "fpms", []):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def setup(srv):
    h.require_tool("php-cgi")
    h.require_tool("perl")
    for t in (srv.alice, srv.bob):
        for name, data in PHP.items():
            t.write(f"php/{name}", data)
        t.write("php/lim/ini.php", PHP["ini.php"])
        t.write("php/up/shell.php", SHELL_PHP)
        t.write("php/app/index.php", PHP["vars.php"])
        t.write("php/app/style.css", b"body{}")
        t.write("php/wp-config.php", b'<?php echo "RAN wp-config\\n";')
        t.write("php/admin/panel.php", b'<?php echo "RAN panel for ", $_SERVER["REMOTE_ADDR"], "\\n";')
        t.write("php/members/who.php",
                b'<?php echo "RAN for ", $_SERVER["REMOTE_USER"] ?? "-", " ", $_SERVER["AUTH_TYPE"] ?? "-", " ",'
                b' isset($_SERVER["HTTP_AUTHORIZATION"]) ? "saw-credentials" : "no-credentials", "\\n";')
        for d in ("php/api", "php"):
            t.write(f"{d}/auth.php", b'<?php echo "user=", $_SERVER["PHP_AUTH_USER"] ?? "-", " pw=",'
                                     b' $_SERVER["PHP_AUTH_PW"] ?? "-", "\\n";')
        t.home_write("members.htpasswd", b"ann:$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/\n"
                                          b"ben:$2y$05$9XWVWzYUJ7Ax2MyezPmNK.obLISeOMK62mNbddv1sE8QEcnHWDHsm\n",
                     mode=0o600)
        h._mkdir(os.path.join(t.home, "sessions"), t.uid, t.uid, 0o700)
        h._mkdir(os.path.join(t.home, "tmp"), t.uid, t.uid, 0o700)
        t.home_write("php.d/50-itkd.ini",
                     (f"session.save_path = {t.home}/sessions\n"
                      f"upload_tmp_dir = {t.home}/tmp\n"
                      f"opcache.enable = 1\n").encode())
        t.home_write("cgi-bin/connect.pl", PL_CONNECT, mode=0o755)
    start_fpms(srv)


def fcgid(t):
    return (f"  ScriptAlias /cgi-bin/ {t.home}/cgi-bin/\n"
            f"  AddHandler fcgid-script .php\n"
            f"  FcgidWrapper /usr/bin/php-cgi .php\n"
            f"  FcgidInitialEnv PHP_INI_SCAN_DIR :{t.home}/php.d\n"
            f"  FcgidMaxProcessesPerClass 2\n"
            f"  FcgidIdleTimeout 60\n"
            f"  FcgidMaxRequestsPerProcess 500\n"
            f"  <Directory {t.www}/php>\n    Options +ExecCGI\n  </Directory>\n")


# A front controller for every URL under /php/app/ that names nothing on disk, as a
# WordPress site's pretty permalinks need (mod_dir's FallbackResource).
def fallback_block(t):
    return (f"  <Directory {t.www}/php/app>\n"
            f"    FallbackResource /php/app/index.php\n"
            f"  </Directory>\n"
            # WordPress hardening, as the guides write it: the script must not run.
            f"  <Files wp-config.php>\n"
            f"    Require all denied\n"
            f"  </Files>\n"
            # An admin area for the office only, by URL, as hosting guides write it.
            f"  <Location /php/admin>\n"
            f"    Require ip 127.0.0.2\n"
            f"  </Location>\n"
            f"  <Directory {t.www}/php/members>\n"
            f"    AuthType Basic\n"
            f"    AuthName Members\n"
            f"    AuthUserFile {t.home}/members.htpasswd\n"
            f"    Require user ann\n"
            f"  </Directory>\n"
            # An API that checks credentials itself, as it did under mod_php.
            f"  <Directory {t.www}/php/api>\n"
            f"    CGIPassAuth On\n"
            # Debian's userdir.conf style: other methods are refused before PHP runs.
            f"    <LimitExcept GET POST>\n"
            f"      Require all denied\n"
            f"    </LimitExcept>\n"
            f"  </Directory>\n")


def fpm_handler(sock):
    return (f"  <FilesMatch \\.php$>\n"
            f"    SetHandler \"proxy:unix:{sock}|fcgi://localhost\"\n"
            f"  </FilesMatch>\n")


def config(srv):
    a, b = srv.alice, srv.bob
    run = os.path.join(srv.root, "run-php")
    addr = f"*:{srv.port}"
    extra = (h.vhost_block(addr, "alice-fpm.test", a, extra=fpm_handler(f"{run}/alice.sock") + fallback_block(a))
             + h.vhost_block(addr, "bob-fpm.test", b, extra=fpm_handler(f"{run}/bob.sock"))
             + h.vhost_block(addr, "alice-tcp.test", a, extra=(
                 f"  ProxyPassMatch ^/(.*\\.php(/.*)?)$ "
                 f"fcgi://127.0.0.1:{srv.fpm_port}{a.www}/$1\n"))
             + h.vhost_block(addr, "dead.test", a, extra=fpm_handler(f"{run}/nobody.sock"))
             + h.vhost_block(addr, "slow.test", a, extra=fpm_handler(f"{run}/alice.sock")
                             + "  ProxyTimeout 1\n")
             + h.vhost_block(addr, "busy.test", a, extra=fpm_handler(f"{run}/alice.sock")
                             + "  ProxyTimeout 4\n")
             + h.vhost_block(addr, "alice-ini.test", a, extra=fcgid(a) + php_ini_block(a))
             + h.vhost_block(addr, "alice-fpm-ini.test", a, extra=fpm_handler(f"{run}/alice-ini.sock")
                             + php_ini_block(a))
             + h.vhost_block(addr, "reuse-fpm.test", a, extra=fpm_handler(f"{run}/alice.sock")
                             + "  <Proxy \"fcgi://localhost/\" enablereuse=on max=1>\n"
                               "  </Proxy>\n"))
    return h.standard_config(srv, alice_extra=fcgid(a) + fallback_block(a), bob_extra=fcgid(b)) + extra


def multipart(fields, files, boundary="----itkd-e2e-boundary-7d3"):
    out = b""
    for k, v in fields.items():
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n"
                ).encode() + v + b"\r\n"
    for k, (name, data) in files.items():
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; "
                f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                ).encode() + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


class PhpBase(h.ServerTestCase):
    config = config
    setup_tree = setup

    @classmethod
    def setUpClass(cls):
        try:
            super().setUpClass()
        except BaseException:
            # The Server was cleaned up; its php-fpm masters are ours to stop.
            if hasattr(cls, "srv"):
                stop_fpms(cls.srv)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            stop_fpms(cls.srv)

    def php(self, path, host="alice.test", method="GET", body=None, headers=(), source=None):
        with h.Conn(self.port, timeout=15, source=source) as c:
            r = c.request(method, path, host=host, body=body,
                          headers=list(headers) + [("Connection", "close")])
        self.assertIsNotNone(r)
        return r

    def ids(self, path, host):
        r = self.php(path, host=host)
        self.assertStatus(r, 200, f"{host}{path}")
        euid, uid, pid = (int(x) for x in r.body.split())
        return euid, uid, pid


    def ini(self, path, host):
        r = self.php(path, host=host)
        self.assertStatus(r, 200, f"{host}{path}")
        mem, basedir, loosened, outside, pid = r.body.decode().split("|")
        return mem, basedir, loosened, outside, int(pid)

    def check_php_ini(self, host):
        """php_value, php_admin_value and php_admin_flag of an mpm-itk vhost, with a
        <Directory> override; returns the pids that served the two directories."""
        www = self.srv.alice.www
        mem, basedir, loosened, outside, top = self.ini("/php/ini.php", host)
        # The admin setting holds against the script's ini_set and keeps it in its tree.
        self.assertEqual((mem, basedir, loosened, outside), ("48M", f"{www}:/tmp", "false", "false"))
        mem, basedir, loosened, outside, lim = self.ini("/php/lim/ini.php", host)
        self.assertEqual((mem, basedir, loosened, outside), ("24M", f"{www}:/tmp", "false", "false"))
        # engine off: PHP doesn't run, the file is served as a file (as Apache does once
        # mod_php declines).
        r = self.php("/php/up/shell.php", host=host)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, SHELL_PHP, "PHP ran in a directory with php_admin_flag engine off")
        # The same scripts on a vhost without the settings: PHP's defaults.
        plain = "alice.test" if "fpm" not in host else "alice-fpm.test"
        r = self.php("/php/up/shell.php", host=plain)
        self.assertEqual(r.body, f"ran as {h.ALICE_UID}\n".encode())
        return top, lim


    def check_fallback_resource(self, host):
        # A pretty permalink runs the front controller, which sees the URI the client sent.
        r = self.php("/php/app/2026/11/hello-world/?replytocom=5", host=host)
        self.assertStatus(r, 200)
        j = json.loads(r.body)
        self.assertEqual(j["uri"], "/php/app/2026/11/hello-world/?replytocom=5")
        self.assertEqual(j["script_name"], "/php/app/index.php")
        self.assertEqual(j["script_filename"], self.srv.alice.www + "/php/app/index.php")
        self.assertEqual(j["get"], {"replytocom": "5"})
        self.assertIsNone(j["path_info"])
        self.assertEqual(j["euid"], h.ALICE_UID)
        # A POST to the front controller's API keeps its body.
        r = self.php("/php/app/wp-json/wp/v2/posts", host=host, method="POST", body=b"title=x+y",
                     headers=[("Content-Type", "application/x-www-form-urlencoded")])
        self.assertStatus(r, 200)
        self.assertEqual(json.loads(r.body)["post"], {"title": "x y"})
        # Files that exist are served as themselves; a missing .php has a handler by its
        # name and stays a 404, as with mod_dir; outside the <Directory>, no fallback.
        r = self.php("/php/app/style.css", host=host)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"body{}")
        self.assertStatus(self.php("/php/app/gone.php", host=host), 404)
        self.assertStatus(self.php("/php/nothing-here", host=host), 404)

    def check_location_require_ip(self, host):
        # From anywhere but the office address: 403, and the script never runs.
        for source in ("127.0.0.1", "127.0.0.3"):
            for path in ("/php/admin/panel.php", "/php/admin/panel.php/x"):
                r = self.php(path, host=host, source=source)
                self.assertStatus(r, 403, f"{path} from {source}")
                self.assertNotIn(b"RAN", r.body, f"{path} from {source}: a refused script ran")
        r = self.php("/php/admin/panel.php", host=host, source="127.0.0.2")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"RAN panel for 127.0.0.2\n")

    def check_basic_auth(self, host):
        def auth(user_pass):
            return [("Authorization", "Basic " + base64.b64encode(user_pass.encode()).decode())]
        for creds in (None, "ann:wrong", "ben:secret"):  # ben is valid but not "Require user ann"
            r = self.php("/php/members/who.php", host=host, headers=auth(creds) if creds else ())
            self.assertStatus(r, 401, str(creds))
            self.assertEqual(r.header("WWW-Authenticate"), 'Basic realm="Members"')
            self.assertNotIn(b"RAN", r.body, f"{creds}: the script ran without a valid login")
        r = self.php("/php/members/who.php", host=host, headers=auth("ann:secret"))
        self.assertStatus(r, 200)
        # The script learns who, never the password (Authorization stays with the server).
        self.assertEqual(r.body, b"RAN for ann Basic no-credentials\n")

    def check_cgi_pass_auth(self, host):
        creds = [("Authorization", "Basic " + base64.b64encode(b"api-user:api-key").decode())]
        r = self.php("/php/api/auth.php", host=host, headers=creds)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"user=api-user pw=api-key\n")
        # Elsewhere the header stays with the server, as in Apache without CGIPassAuth.
        r = self.php("/php/auth.php", host=host, headers=creds)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"user=- pw=-\n")
        for method in ("PUT", "DELETE"):
            r = self.php("/php/api/auth.php", host=host, method=method, headers=creds)
            self.assertStatus(r, 403, method)
            self.assertNotIn(b"user=", r.body, f"{method}: the script ran")

    def check_files_require(self, host):
        for path in ("/php/wp-config.php", "/php/wp-config.php/x"):
            r = self.php(path, host=host)
            self.assertStatus(r, 403, path)
            self.assertNotIn(b"RAN", r.body, f"{path}: a script denied by <Files> ran")
        # Without the block (bob's vhost) the same script runs: the 403 is the block's.
        r = self.php("/php/wp-config.php", host=host.replace("alice", "bob"))
        self.assertEqual(r.body, b"RAN wp-config\n")


class ManagedPhpCgi(PhpBase):
    """mod_fcgid-style php-cgi processes inside each owner's pool."""

    def test_euid_per_owner(self):
        seen = {}
        for host, uid in (("alice.test", h.ALICE_UID), ("bob.test", h.BOB_UID)):
            euid, ruid, pid = self.ids("/php/euid.php", host)
            self.assertEqual((euid, ruid), (uid, uid), host)
            self.assertTrue(h.alive(pid), f"php process {pid} of {host} is not persistent")
            st = h.status(pid)
            self.assertEqual(st["Uid"].split(), [str(uid)] * 4, f"/proc/{pid}/status")
            self.assertEqual(st["CapEff"], "0000000000000000")
            self.assertTrue(any("php-cgi" in a for a in h.cmdline(pid)), h.cmdline(pid))
            workers = self.srv.workers_with_uid(uid)
            self.assertTrue(any(pid in h.descendants(w) for w in workers),
                            f"php-cgi {pid} is not inside a worker of uid {uid}")
            seen[host] = pid
        self.assertNotEqual(seen["alice.test"], seen["bob.test"])

    def test_setuid_fails(self):
        for host, uid in (("alice.test", h.ALICE_UID), ("bob.test", h.BOB_UID)):
            r = self.php("/php/setuid.php", host=host)
            self.assertStatus(r, 200)
            self.assertEqual(r.body.decode().split(), ["false", "false", str(uid), str(uid)])

    def test_get_post_cookie(self):
        body = b"a=b&c=d+e"
        r = self.php("/php/vars.php?x=1&y=two", method="POST", body=body,
                     headers=[("Content-Type", "application/x-www-form-urlencoded"),
                              ("Cookie", "k1=v1; k2=v2"), ("Proxy", "http://evil:1/")])
        self.assertStatus(r, 200)
        j = json.loads(r.body)
        self.assertEqual(j["get"], {"x": "1", "y": "two"})
        self.assertEqual(j["post"], {"a": "b", "c": "d e"})
        self.assertEqual(j["cookie"], {"k1": "v1", "k2": "v2"})
        self.assertIsNone(j["proxy"], "httpoxy: Proxy: header reached PHP as HTTP_PROXY")
        self.assertEqual(j["euid"], h.ALICE_UID)

    def test_fallback_resource_front_controller(self):
        self.check_fallback_resource("alice.test")

    def test_files_require_denies_a_script(self):
        self.check_files_require("alice.test")

    def test_location_require_ip_guards_a_script(self):
        self.check_location_require_ip("alice.test")

    def test_basic_auth_guards_a_script(self):
        self.check_basic_auth("alice.test")

    def test_cgi_pass_auth(self):
        self.check_cgi_pass_auth("alice.test")

    def test_path_info_and_request_uri(self):
        r = self.php("/php/vars.php/extra/info?q=1")
        self.assertStatus(r, 200)
        j = json.loads(r.body)
        self.assertEqual(j["path_info"], "/extra/info")
        self.assertEqual(j["uri"], "/php/vars.php/extra/info?q=1")
        self.assertEqual(j["script_name"], "/php/vars.php")
        self.assertEqual(j["script_filename"], self.srv.alice.www + "/php/vars.php")
        self.assertEqual(j["server_name"], "alice.test")

    def test_multipart_upload(self):
        data = os.urandom(200 * 1024)
        body, ctype = multipart({"note": b"hello"}, {"f": ("blob.bin", data)})
        r = self.php("/php/upload.php", method="POST", body=body,
                     headers=[("Content-Type", ctype)])
        self.assertStatus(r, 200)
        parts = r.body.decode().split()
        self.assertEqual(parts[:3], ["blob.bin", str(len(data)), "0"], r.body)
        self.assertEqual(parts[3], hashlib.sha256(data).hexdigest())
        self.assertEqual(parts[4], self.srv.alice.home + "/tmp")

    def test_session_files_only_owner_can_read(self):
        a = self.srv.alice
        r1 = self.php("/php/session.php")
        self.assertStatus(r1, 200)
        cookie = r1.header("set-cookie")
        self.assertIsNotNone(cookie, f"no session cookie: {r1.headers}")
        m = re.match(r"PHPSESSID=([A-Za-z0-9,-]+)", cookie)
        self.assertIsNotNone(m, cookie)
        sid = m.group(1)
        self.assertEqual(r1.body.decode().split(), [sid, "1", a.home + "/sessions"])
        r2 = self.php("/php/session.php", headers=[("Cookie", f"PHPSESSID={sid}")])
        self.assertEqual(r2.body.decode().split()[:2], [sid, "2"])
        path = os.path.join(a.home, "sessions", f"sess_{sid}")
        st = os.stat(path)
        self.assertEqual(st.st_uid, h.ALICE_UID, "session file owner")
        self.assertEqual(st.st_mode & 0o077, 0, f"session file mode {oct(st.st_mode)}")
        with open(path) as f:
            self.assertIn("n|i:2;", f.read())

    def test_phpinfo(self):
        r = self.php("/php/info.php")
        self.assertStatus(r, 200)
        first = r.body.split(b"\n", 1)[0].decode()
        m = re.match(r"euid=(\d+) pid=(\d+)", first)
        self.assertIsNotNone(m, first)
        self.assertEqual(int(m.group(1)), h.ALICE_UID)
        self.assertEqual(h.uid_of(int(m.group(2))), h.ALICE_UID)
        self.assertIn(b"CGI/FastCGI", r.body)
        self.assertIn(self.srv.alice.www.encode(), r.body, "phpinfo lacks DOCUMENT_ROOT")
        self.assertNotIn(self.srv.bob.home.encode(), r.body)

    def test_opcache_persistent_per_owner(self):
        first = self.php("/php/opcache.php").body.decode().split()
        second = self.php("/php/opcache.php").body.decode().split()
        pid1, enabled, hits1, _, euid = (int(x) for x in first)
        pid2, _, hits2, cached2, _ = (int(x) for x in second)
        self.assertEqual(enabled, 1, f"opcache is off in the managed php-cgi: {first}")
        self.assertEqual(euid, h.ALICE_UID)
        self.assertEqual(pid1, pid2, "the second hit went to another php process")
        self.assertEqual(cached2, 1, "the script is not in the opcache on the second hit")
        self.assertGreater(hits2, hits1, "no opcache hit on the second request")
        bob = self.php("/php/opcache.php", host="bob.test").body.decode().split()
        bob_pid = int(bob[0])
        self.assertNotEqual(bob_pid, pid1)
        self.assertEqual(h.uid_of(pid1), h.ALICE_UID)
        self.assertEqual(h.uid_of(bob_pid), h.BOB_UID)

    def test_connection_to_php_cgi_is_kept_between_requests(self):
        # FCGI_KEEP_CONN to the managed php-cgi: after a request its connection stays open
        # (php-cgi's fd 0 is its listening socket; the accepted connection is another fd),
        # and the next request to that process comes over the same connection.
        def connections(pid):
            return sorted(t for fd, t in h.fds(pid).items() if fd != 0 and t.startswith("socket:"))

        pid = int(self.php("/php/opcache.php").body.split()[0])
        first = connections(pid)
        self.assertEqual(len(first), 1, f"php-cgi {pid} holds {h.fds(pid)}")
        for _ in range(3):
            self.assertEqual(int(self.php("/php/opcache.php").body.split()[0]), pid)
            self.assertEqual(connections(pid), first, "a new connection per request")

    def test_php_cgi_inherits_the_workers_batch_scheduling(self):
        pid = int(self.php("/php/opcache.php").body.split()[0])
        self.assertEqual(os.sched_getscheduler(pid), os.SCHED_BATCH, f"php-cgi {pid}")

    def run_concurrently_counting_php(self, calls):
        """Runs the calls (each returns a Response) in threads, all answered 200; returns
        their responses and the most php-cgi processes of alice seen at once meanwhile."""
        results = []

        def hit(call):
            try:
                results.append(call())
            except Exception as e:  # noqa: BLE001 - reported below
                results.append(e)

        threads = [threading.Thread(target=hit, args=(call,)) for call in calls]
        for t in threads:
            t.start()
        peak = 0
        while any(t.is_alive() for t in threads):
            php = [p for p in h.pids_of_uid(h.ALICE_UID)
                   if any("php-cgi" in a for a in h.cmdline(p))]
            peak = max(peak, len(php))
            time.sleep(0.05)
        for t in threads:
            t.join()
        for r in results:
            self.assertIsInstance(r, h.Response, r)
            self.assertStatus(r, 200)
        return results, peak

    def test_max_processes_per_class(self):
        self.php("/php/sleep.php")
        results, peak = self.run_concurrently_counting_php([lambda: self.php("/php/sleep.php")] * 5)
        pids = {int(r.body) for r in results}
        self.assertLessEqual(len(pids), 2, f"FcgidMaxProcessesPerClass 2, used {pids}")
        self.assertLessEqual(peak, 2, "more than 2 php-cgi processes of alice at once")

    def test_max_processes_per_class_holds_across_the_pools_workers(self):
        # mod_fcgid counts a class's processes server-wide. alice's pool grows to two
        # workers (PoolMaxWorkers 2) that both run PHP at once: together they must not
        # start more than FcgidMaxProcessesPerClass 2.
        conns, by_worker = [], {}
        try:
            # Keep opening connections until some are served by each of two workers
            # (php-cgi's parent is the worker); the front grows the pool once the first
            # worker holds enough of them.
            for _ in range(40):
                c = h.Conn(self.port, timeout=20)
                conns.append(c)
                r = c.request("GET", "/php/parent.php", host="alice.test")
                self.assertStatus(r, 200)
                by_worker.setdefault(int(r.body.split()[1]), []).append(c)
                if len(by_worker) >= 2 and all(len(v) >= 2 for v in list(by_worker.values())[:2]):
                    break
            workers = [w for w, cs in by_worker.items() if len(cs) >= 2][:2]
            self.assertEqual(len(workers), 2, f"connections per worker: "
                             f"{ {w: len(cs) for w, cs in by_worker.items()} }")
            busy = by_worker[workers[0]][:2] + by_worker[workers[1]][:2]
            results, peak = self.run_concurrently_counting_php(
                [lambda c=c: c.request("GET", "/php/parent.php?us=700000", host="alice.test")
                 for c in busy])
            parents = {int(r.body.split()[1]) for r in results}
            self.assertEqual(parents, set(workers), "both workers served the concurrent requests")
            self.assertLessEqual(len({int(r.body.split()[0]) for r in results}), 2)
            self.assertLessEqual(peak, 2, "more than 2 php-cgi processes of alice at once")
        finally:
            for c in conns:
                c.close()

    def test_dead_php_process_is_replaced(self):
        _, _, pid = self.ids("/php/euid.php", "bob.test")
        os.kill(pid, signal.SIGKILL)  # a php-cgi this test had the server start
        h.wait_for(lambda: not h.alive(pid), timeout=5, what=f"php-cgi {pid} to die")
        euid, _, pid2 = self.ids("/php/euid.php", "bob.test")
        self.assertEqual(euid, h.BOB_UID)
        self.assertNotEqual(pid2, pid)

    def test_php_value_and_admin_value(self):
        top, lim = self.check_php_ini("alice-ini.test")
        www = self.srv.alice.www
        # php-cgi got them on its command line, and lim/ has processes of its own.
        self.assertIn(f"open_basedir={www}:/tmp", h.cmdline(top))
        self.assertIn("memory_limit=48M", h.cmdline(top))
        self.assertIn("memory_limit=24M", h.cmdline(lim))
        self.assertNotEqual(top, lim)
        _, basedir, _, outside, _ = self.ini("/php/ini.php", "alice.test")
        self.assertEqual((basedir, outside), ("", "true"))


class PhpFpm(PhpBase):
    """FastCGI to per-owner php-fpm pools started by the test."""

    def test_fallback_resource_front_controller(self):
        self.check_fallback_resource("alice-fpm.test")

    def test_files_require_denies_a_script(self):
        self.check_files_require("alice-fpm.test")

    def test_location_require_ip_guards_a_script(self):
        self.check_location_require_ip("alice-fpm.test")

    def test_basic_auth_guards_a_script(self):
        self.check_basic_auth("alice-fpm.test")

    def test_cgi_pass_auth(self):
        self.check_cgi_pass_auth("alice-fpm.test")

    def test_php_value_and_admin_value(self):
        # php-fpm gets them as PHP_VALUE / PHP_ADMIN_VALUE with each request.
        self.check_php_ini("alice-fpm-ini.test")

    def test_euid_per_owner(self):
        for host, uid, pool in (("alice-fpm.test", h.ALICE_UID, "alice"),
                                ("bob-fpm.test", h.BOB_UID, "bob")):
            euid, ruid, pid = self.ids("/php/euid.php", host)
            self.assertEqual((euid, ruid), (uid, uid), host)
            self.assertEqual(h.uid_of(pid), uid)
            self.assertIn(f"pool {pool}", " ".join(h.cmdline(pid)))

    def test_setuid_fails(self):
        r = self.php("/php/setuid.php", host="alice-fpm.test")
        self.assertStatus(r, 200)
        self.assertEqual(r.body.decode().split(),
                         ["false", "false", str(h.ALICE_UID), str(h.ALICE_UID)])

    def test_environment_through_fpm(self):
        body = b"a=b"
        r = self.php("/php/vars.php/pi/x?q=1", host="alice-fpm.test", method="POST", body=body,
                     headers=[("Content-Type", "application/x-www-form-urlencoded"),
                              ("Proxy", "http://evil:1/")])
        self.assertStatus(r, 200)
        j = json.loads(r.body)
        self.assertEqual(j["get"], {"q": "1"})
        self.assertEqual(j["post"], {"a": "b"})
        self.assertEqual(j["path_info"], "/pi/x")
        self.assertEqual(j["uri"], "/php/vars.php/pi/x?q=1")
        self.assertEqual(j["script_filename"], self.srv.alice.www + "/php/vars.php")
        self.assertIsNone(j["proxy"])

    def test_proxy_pass_match_tcp(self):
        r = self.php("/php/vars.php/more?z=9", host="alice-tcp.test")
        self.assertStatus(r, 200)
        j = json.loads(r.body)
        self.assertEqual(j["euid"], h.ALICE_UID)
        self.assertEqual(j["get"], {"z": "9"})
        self.assertEqual(j["script_filename"], self.srv.alice.www + "/php/vars.php",
                         "SCRIPT_FILENAME must not keep a proxy: prefix")
        self.assertEqual(j["path_info"], "/more")

    def test_multipart_upload(self):
        data = os.urandom(100 * 1024)
        body, ctype = multipart({}, {"f": ("x.bin", data)})
        r = self.php("/php/upload.php", host="bob-fpm.test", method="POST", body=body,
                     headers=[("Content-Type", ctype)])
        self.assertStatus(r, 200)
        parts = r.body.decode().split()
        self.assertEqual(parts[1:4], [str(len(data)), "0", hashlib.sha256(data).hexdigest()])

    def test_other_tenants_socket_refused(self):
        run = os.path.join(self.srv.root, "run-php")
        st = os.stat(f"{run}/bob.sock")
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777), (h.BOB_UID, h.BOB_UID, 0o660))
        r = self.php(f"/cgi-bin/connect.pl?{run}/bob.sock")
        self.assertStatus(r, 200)
        self.assertEqual(r.body.strip(), f"connected=0 errno={errno.EACCES}".encode(),
                         "alice's CGI reached bob's php-fpm")
        r = self.php(f"/cgi-bin/connect.pl?{run}/alice.sock")
        self.assertEqual(r.body.strip(), b"connected=1 errno=0", "alice's own socket")

    def test_many_clients_across_workers_share_a_small_fpm_pool(self):
        # php-fpm has 3 children here and itkd's pool grows to 2 workers under this load.
        # A worker that kept idle connections open would hold children the other worker's
        # requests then wait for until ProxyTimeout (504): connections are not reused by
        # default, as in Apache.
        results = []

        def client():
            for _ in range(4):
                try:
                    r = h.get(self.port, "/php/busy.php", host="busy.test",
                              headers=[("Connection", "close")])
                    results.append(r.status)
                except OSError as e:
                    results.append(repr(e))

        threads = [threading.Thread(target=client) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(len(results), 64)
        self.assertEqual([r for r in results if r != 200], [])
        self.assertEqual(len(self.srv.workers_with_uid(h.ALICE_UID)), 2,
                         "the load should have grown alice's pool to two workers")

    def test_proxy_block_enablereuse_keeps_the_fpm_connection(self):
        # A php-fpm child's sockets are its pool's listening socket and, while it serves
        # one, the accepted connection. With <Proxy ... enablereuse=on> the worker keeps its
        # connection after the answer, so the same child answers the next request over it.
        def listening():
            with open("/proc/net/unix") as f:  # Flags 00010000: __SO_ACCEPTCON
                return {f"socket:[{cols[6]}]" for cols in (line.split() for line in f)
                        if len(cols) >= 7 and cols[3] == "00010000"}

        def connections(pid):
            listen = listening()
            return sorted(t for t in h.fds(pid).values() if t.startswith("socket:") and t not in listen)

        with h.Conn(self.port, timeout=15) as c:  # one client connection: one worker
            pids, held = [], []
            for _ in range(4):
                r = c.request("GET", "/php/euid.php", host="reuse-fpm.test")
                self.assertStatus(r, 200)
                pid = int(r.body.split()[2])
                pids.append(pid)
                held.append(connections(pid))
        self.assertEqual(len(set(pids)), 1, f"answered by {pids}")
        self.assertEqual(len(held[0]), 1, f"php-fpm {pids[0]} holds {h.fds(pids[0])}")
        self.assertEqual(held, [held[0]] * 4, "a new connection per request")
        # Without the <Proxy> block (Apache's default) the child closes it after the answer.
        _, _, pid = self.ids("/php/euid.php", "alice-fpm.test")
        h.wait_for(lambda: connections(pid) == [], timeout=5,
                   what=f"php-fpm {pid} to close the connection of a request without reuse")

    def test_dead_backend_503(self):
        watch = h.LogWatch(self.srv.alice.error_log, self.srv.error_log)
        r = self.php("/php/euid.php", host="dead.test")
        self.assertStatus(r, 503)
        sock = os.path.join(self.srv.root, "run-php", "nobody.sock")
        h.wait_for(lambda: sock in watch.all_new(), timeout=5,
                   what=f"a log line naming {sock}")
        self.assertStatus(self.php("/php/euid.php", host="alice-fpm.test"), 200)

    def test_slow_backend_504(self):
        watch = h.LogWatch(self.srv.alice.error_log, self.srv.error_log)
        t0 = time.monotonic()
        r = self.php("/php/slow.php", host="slow.test")
        took = time.monotonic() - t0
        self.assertStatus(r, 504)
        self.assertLess(took, 4.5, "ProxyTimeout 1 was not applied")
        sock = os.path.join(self.srv.root, "run-php", "alice.sock")
        h.wait_for(lambda: sock in watch.all_new(), timeout=5,
                   what=f"a log line naming {sock}")
        self.assertStatus(self.php("/php/euid.php", host="alice-fpm.test"), 200)


if __name__ == "__main__":
    h.main()
