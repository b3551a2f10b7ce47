#!/usr/bin/env python3
"""CGI/1.1 (RFC 3875) run by the tenant's worker: identities, environment, attacks, limits,
request and response streaming, script errors (issue 3).

Scripts are real shell, Perl and C programs (the C one is compiled with gcc here); every
identity claim is checked in /proc as well as in the body.
"""

import errno
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest

import itkd_harness as h

HERE = os.path.dirname(os.path.abspath(__file__))

SH_ID = b"""#!/bin/sh
echo "Content-Type: text/plain"
echo
echo "uid=$(id -u) gid=$(id -g)"
echo "pid=$$"
grep -E '^(Uid|Gid|Groups|NoNewPrivs|Seccomp|CapEff|CapPrm|PPid):' /proc/$$/status
"""

PL_ID = b"""#!/usr/bin/perl
print "Content-Type: text/plain\\n\\n";
print "uid=$< euid=$>\\npid=$$\\n";
open(my $f, "<", "/proc/self/status") or die;
while (<$f>) { print if /^(Uid|Gid|Groups|NoNewPrivs|Seccomp|CapEff|CapPrm|PPid):/ }
"""

# Prints its pid, then lingers so the test can look at it in /proc while it runs.
PL_SLOW_ID = b"""#!/usr/bin/perl
$| = 1;
print "Content-Type: text/plain\\n\\n";
print "pid=$$\\n";
sleep 1;
print "done\\n";
"""

PL_ENV = b"""#!/usr/bin/perl
binmode STDOUT;
my $body = "";
read(STDIN, $body, $ENV{CONTENT_LENGTH}) if $ENV{CONTENT_LENGTH};
print "Content-Type: text/plain\\n\\n";
for my $k (sort keys %ENV) { my $v = $ENV{$k}; $v =~ s/\\n/\\\\n/g; print "$k=$v\\n" }
print "BODY=$body\\n";
"""

# Reads exactly CONTENT_LENGTH bytes (RFC 3875 4.2) and reports their length and digest.
PL_ECHO = b"""#!/usr/bin/perl
use Digest::SHA;
binmode STDIN;
my $sha = Digest::SHA->new(256);
my ($n, $buf) = (0, "");
my $left = $ENV{CONTENT_LENGTH} // 0;
while ($left > 0) {
  my $r = read(STDIN, $buf, $left < 65536 ? $left : 65536);
  last unless $r;
  $n += $r; $left -= $r; $sha->add($buf);
}
print "Content-Type: text/plain\\n\\n";
print "CONTENT_LENGTH=", ($ENV{CONTENT_LENGTH} // "unset"), "\\n";
print "read=$n\\nsha256=", $sha->hexdigest, "\\n";
print "TE=", ($ENV{HTTP_TRANSFER_ENCODING} // "unset"), "\\n";
"""

STREAM_BLOCK = bytes(i % 251 for i in range(65536))
STREAM_BLOCKS = 1600  # 100 MiB
PL_STREAM = b"""#!/usr/bin/perl
binmode STDOUT;
print "Content-Type: application/octet-stream\\n\\n";
my $block = join "", map { chr($_ %% 251) } 0..65535;
print $block for 1..%d;
""" % STREAM_BLOCKS

PL_DIES = b"""#!/usr/bin/perl
$| = 1;
print "Content-Type: text/plain\\n\\n";
print "x" x 1000;
sleep 1;
kill 'KILL', $$;
"""

PL_BAD_HEAD = b"""#!/usr/bin/perl
print "This is not a header line at all\\n\\nbody\\n";
"""

PL_STDERR = b"""#!/usr/bin/perl
print STDERR "STDERR-MARKER-4711 from the script\\n";
print "Content-Type: text/plain\\n\\nok\\n";
"""

PL_404 = b"""#!/usr/bin/perl
print "Status: 404 Not Found\\nContent-Type: text/plain\\n\\nscript says gone\\n";
"""

PL_LOCAL_REDIRECT = b"""#!/usr/bin/perl
print "Location: /index.html\\n\\n";
"""

PL_ABS_REDIRECT = b"""#!/usr/bin/perl
print "Location: http://x/\\n\\n";
"""

SH_LOOP = b"""#!/bin/sh
sleep 100 &
while :; do :; done
"""

# A bounded fork bomb: 200 children that sleep, so it ends even without RLimitNPROC.
PL_FORK_BOMB = b"""#!/usr/bin/perl
$| = 1;
my ($ok, $fail, $err) = (0, 0, 0);
for (1..200) {
  my $p = fork();
  if (!defined $p) { $fail++; $err = $! + 0; last }
  if ($p == 0) { close STDIN; close STDOUT; close STDERR; sleep 3; exit 0 }
  $ok++;
}
print "Content-Type: text/plain\\n\\nforked=$ok failed=$fail errno=$err\\n";
"""


def compile_attack(srv):
    gcc = h.require_tool("gcc")
    out = os.path.join(srv.root, "attack.cgi")
    p = subprocess.run([gcc, "-O2", "-o", out, os.path.join(HERE, "cgi_src", "attack.c")],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"gcc could not build the attack CGI: {p.stderr}")
    with open(out, "rb") as f:
        return f.read()


def setup(srv):
    h.require_tool("perl")
    attack = compile_attack(srv)
    for t in (srv.alice, srv.bob):
        t.home_write("cgi-bin/id.sh", SH_ID, mode=0o755)
        t.home_write("cgi-bin/id.pl", PL_ID, mode=0o755)
        t.home_write("cgi-bin/env.pl", PL_ENV, mode=0o755)
        t.home_write("cgi-bin/attack.cgi", attack, mode=0o755)
    a = srv.alice
    for name, data in (("slowid.pl", PL_SLOW_ID), ("echo.pl", PL_ECHO),
                       ("stream.pl", PL_STREAM), ("dies.pl", PL_DIES),
                       ("badhead.pl", PL_BAD_HEAD), ("stderr.pl", PL_STDERR),
                       ("status404.pl", PL_404), ("local.pl", PL_LOCAL_REDIRECT),
                       ("absolute.pl", PL_ABS_REDIRECT), ("loop.sh", SH_LOOP),
                       ("forkbomb.pl", PL_FORK_BOMB)):
        a.home_write(f"cgi-bin/{name}", data, mode=0o755)
    a.home_write("cgi-bin/subdir/env.pl", PL_ENV, mode=0o755)
    a.write("cgi/env.cgi", PL_ENV, mode=0o755)
    a.write("cgi/uploads/env.cgi", PL_ENV, mode=0o755)
    a.write("cgi/uploads/env.pl", PL_ENV, mode=0o755)
    a.write("noexec/env.cgi", PL_ENV, mode=0o755)
    srv.bob.home_write("private/secret0600.txt", h.BOB_SECRET, mode=0o600)


def config(srv):
    a, b = srv.alice, srv.bob
    alice_extra = (f"  ScriptAlias /cgi-bin/ {a.home}/cgi-bin/\n"
                   f"  AddHandler cgi-script .cgi .pl\n"
                   f"  RLimitNPROC 20\n"
                   f"  <IfModule mod_env.c>\n"
                   f"    SetEnv APP_ENV production\n"
                   f"    SetEnv SHARED_SECRET_DIR {a.home}/private\n"
                   f"  </IfModule>\n"
                   f"  <Directory {a.home}/cgi-bin/subdir>\n    SetEnv APP_ENV staging\n"
                   f"    UnsetEnv SHARED_SECRET_DIR\n  </Directory>\n"
                   f"  <Directory {a.www}/cgi>\n    Options +ExecCGI\n  </Directory>\n"
                   f"  <Directory {a.www}/cgi/uploads>\n    RemoveHandler .cgi\n  </Directory>\n")
    bob_extra = f"  ScriptAlias /cgi-bin/ {b.home}/cgi-bin/\n"
    return h.standard_config(srv, global_extra="Timeout 2\n", alice_extra=alice_extra,
                             bob_extra=bob_extra)


def parse_kv(body):
    """Lines NAME=VALUE -> dict (first '=' splits)."""
    out = {}
    for line in body.decode("utf-8", "replace").splitlines():
        k, sep, v = line.partition("=")
        if sep:
            out[k] = v
    return out


def status_lines(body):
    """'Uid:' etc. lines of a /proc/PID/status dump in a body -> dict."""
    out = {}
    for line in body.decode("utf-8", "replace").splitlines():
        m = re.match(r"^(\w+):\s*(.*)$", line)
        if m:
            out[m.group(1)] = " ".join(m.group(2).split())
    return out


def read_head(c):
    head = c._read_until(b"\r\n\r\n")
    lines = head[:-4].decode("latin-1").split("\r\n")
    code = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return code, headers


def read_chunk(c):
    """One chunk's data (b'' for the last chunk)."""
    size = int(c._read_until(b"\r\n").strip().split(b";")[0], 16)
    if size == 0:
        return b""
    data = c._read_exact(size)
    c._read_exact(2)
    return data


class Cgi(h.ServerTestCase):
    config = config
    setup_tree = setup

    def tearDown(self):
        # Whatever a script left behind (it was started by this test) is stopped by pid.
        for pid in self.leftovers(h.ALICE_UID) + self.leftovers(h.BOB_UID):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def leftovers(self, uid):
        """Processes of uid that are not the pool's workers (scripts and their kids),
        zombies included: they still count against RLimitNPROC until reaped."""
        workers = set(self.srv.workers_with_uid(uid))
        return [int(n) for n in os.listdir("/proc")
                if n.isdigit() and int(n) not in workers and h.uid_of(int(n)) == uid]

    def wait_no_leftovers(self, uid, timeout=6.0):
        deadline = time.monotonic() + timeout
        while self.leftovers(uid) and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.leftovers(uid)

    def cgi(self, path, host="alice.test", **kw):
        r = self.get(path, host=host, **kw)
        self.assertIsNotNone(r)
        return r

    # ------------------------------------------------------------ identities

    def test_shell_and_perl_run_as_owner(self):
        for host, uid in (("alice.test", h.ALICE_UID), ("bob.test", h.BOB_UID)):
            for script in ("id.sh", "id.pl"):
                with self.subTest(host=host, script=script):
                    r = self.cgi(f"/cgi-bin/{script}", host=host)
                    self.assertStatus(r, 200, f"{host} {script}")
                    st = status_lines(r.body)
                    self.assertIn(f"uid={uid}", r.body.decode(), r.body)
                    self.assertEqual(st.get("Uid"), f"{uid} {uid} {uid} {uid}", r.body)
                    self.assertEqual(st.get("Gid"), f"{uid} {uid} {uid} {uid}", r.body)
                    self.assertIn(st.get("Groups", ""), ("", str(uid)),
                                  "supplementary groups other than the owner's own")
                    self.assertEqual(st.get("CapEff"), "0000000000000000", r.body)
                    self.assertEqual(st.get("CapPrm"), "0000000000000000", r.body)
                    self.assertEqual(st.get("NoNewPrivs"), "1", "scripts must not regain "
                                     "privileges through setuid binaries")
                    workers = self.srv.workers_with_uid(uid)
                    self.assertIn(int(st.get("PPid", "0")), workers,
                                  f"the script's parent is not a worker of uid {uid}")
                    self.assertEqual(st.get("Seccomp"), h.status(workers[0])["Seccomp"],
                                     "the script does not carry its worker's seccomp mode")

    def test_running_script_seen_in_proc(self):
        with h.Conn(self.port) as c:
            c.send("GET /cgi-bin/slowid.pl HTTP/1.1\r\nHost: alice.test\r\n"
                   "Connection: close\r\n\r\n")
            code, _ = read_head(c)
            self.assertEqual(code, 200)
            first = b""
            while b"\n" not in first:
                first += read_chunk(c)
            pid = int(re.search(rb"pid=(\d+)", first).group(1))
            self.assertTrue(h.alive(pid), "the script is gone while it should sleep")
            st = h.status(pid)
            self.assertEqual(st["Uid"].split(), [str(h.ALICE_UID)] * 4)
            self.assertEqual(st["NoNewPrivs"], "1")
            self.assertIn(int(st["PPid"]), self.srv.workers_with_uid(h.ALICE_UID))
            self.assertEqual(sorted(h.fds(pid)), [0, 1, 2], f"script fds: {h.fds(pid)}")
            self.assertNotIn(self.srv.pid, [int(st["PPid"])])

    # ------------------------------------------------------------ environment

    def test_rfc3875_environment(self):
        with h.Conn(self.port) as c:
            client_port = c.sock.getsockname()[1]
            r = c.request("GET", "/cgi/env.cgi/extra/path?a=1&b=two", host="alice.test",
                          headers=[("X-Test-Header", "hello"), ("User-Agent", "itkd-e2e"),
                                   ("Proxy", "http://evil.example:3128/"),
                                   ("X_Under", "sneaky-underscore"),
                                   ("Cookie", "k=v"), ("Connection", "close")])
        self.assertStatus(r, 200)
        env = parse_kv(r.body)
        www = self.srv.alice.www
        want = {
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_NAME": "alice.test",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "SERVER_PORT": str(self.port),
            "REQUEST_METHOD": "GET",
            "REQUEST_URI": "/cgi/env.cgi/extra/path?a=1&b=two",
            "SCRIPT_NAME": "/cgi/env.cgi",
            "PATH_INFO": "/extra/path",
            "PATH_TRANSLATED": www + "/extra/path",
            "QUERY_STRING": "a=1&b=two",
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_PORT": str(client_port),
            "SCRIPT_FILENAME": www + "/cgi/env.cgi",
            "DOCUMENT_ROOT": www,
            "HTTP_HOST": "alice.test",
            "HTTP_X_TEST_HEADER": "hello",
            "HTTP_USER_AGENT": "itkd-e2e",
            "HTTP_COOKIE": "k=v",
            "REDIRECT_STATUS": "200",
            "REQUEST_SCHEME": "http",
        }
        for k, v in want.items():
            self.assertEqual(env.get(k), v, f"{k}; whole environment:\n{r.body.decode()}")
        self.assertIn("SERVER_SOFTWARE", env)
        self.assertIn("SERVER_ADDR", env)
        self.assertNotIn("CONTENT_LENGTH", env, "GET without a body has no CONTENT_LENGTH")
        self.assertNotIn("HTTPS", env)
        # httpoxy: a Proxy: header must never become HTTP_PROXY.
        self.assertNotIn("HTTP_PROXY", env)
        self.assertNotIn(b"evil.example", r.body)
        # Header names with '_' are dropped (they could pose as another header).
        self.assertNotIn("HTTP_X_UNDER", env)
        self.assertNotIn(b"sneaky-underscore", r.body)

    def test_post_environment(self):
        body = b"name=value&x=1"
        with h.Conn(self.port) as c:
            r = c.request("POST", "/cgi/env.cgi", host="alice.test", body=body,
                          headers=[("Content-Type", "application/x-www-form-urlencoded"),
                                   ("Connection", "close")])
        self.assertStatus(r, 200)
        env = parse_kv(r.body)
        self.assertEqual(env.get("REQUEST_METHOD"), "POST")
        self.assertEqual(env.get("CONTENT_LENGTH"), str(len(body)))
        self.assertEqual(env.get("CONTENT_TYPE"), "application/x-www-form-urlencoded")
        self.assertEqual(env.get("BODY"), body.decode())
        self.assertNotIn("HTTP_CONTENT_LENGTH", env)
        self.assertNotIn("HTTP_CONTENT_TYPE", env)

    def test_script_alias_path_info(self):
        r = self.cgi("/cgi-bin/env.pl/x/y?q=1")
        self.assertStatus(r, 200)
        env = parse_kv(r.body)
        self.assertEqual(env.get("SCRIPT_NAME"), "/cgi-bin/env.pl")
        self.assertEqual(env.get("PATH_INFO"), "/x/y")
        self.assertEqual(env.get("SCRIPT_FILENAME"), self.srv.alice.home + "/cgi-bin/env.pl")
        self.assertEqual(env.get("QUERY_STRING"), "q=1")

    def test_set_env_reaches_scripts_by_directory(self):
        env = parse_kv(self.cgi("/cgi-bin/env.pl").body)
        self.assertEqual(env.get("APP_ENV"), "production")
        self.assertEqual(env.get("SHARED_SECRET_DIR"), self.srv.alice.home + "/private")
        env = parse_kv(self.cgi("/cgi-bin/subdir/env.pl").body)
        self.assertEqual(env.get("APP_ENV"), "staging")
        self.assertNotIn("SHARED_SECRET_DIR", env)
        # Another owner's vhost gets none of alice's variables.
        env = parse_kv(self.cgi("/cgi-bin/env.pl", host="bob.test").body)
        self.assertNotIn("APP_ENV", env)

    def test_server_name_is_bobs_vhost(self):
        r = self.cgi("/cgi-bin/env.pl", host="bob.test")
        self.assertStatus(r, 200)
        env = parse_kv(r.body)
        self.assertEqual(env.get("SERVER_NAME"), "bob.test")
        self.assertEqual(env.get("DOCUMENT_ROOT"), self.srv.bob.www)

    def test_remove_handler_stops_execution_below_it(self):
        # An uploads directory: .cgi lost its handler there, so the file is only a file.
        r = self.cgi("/cgi/uploads/env.cgi")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, PL_ENV)
        # .pl keeps the handler the vhost gave it.
        r = self.cgi("/cgi/uploads/env.pl")
        self.assertStatus(r, 200)
        self.assertIn("GATEWAY_INTERFACE", parse_kv(r.body))
        self.assertIn("GATEWAY_INTERFACE", parse_kv(self.cgi("/cgi/env.cgi").body))

    def test_no_exec_cgi_is_403(self):
        r = self.cgi("/noexec/env.cgi")
        self.assertStatus(r, 403, "a .cgi without Options ExecCGI")
        self.assertNotIn(b"#!/usr/bin/perl", r.body, "the script's source was served")

    # ------------------------------------------------------------ attacks

    def test_c_cgi_attacks_fail(self):
        h.get(self.port, "/", host="bob.test")
        bob_worker = self.srv.wait_worker(h.BOB_UID)[0]
        secret = os.path.join(self.srv.bob.home, "private/secret0600.txt")
        r = self.cgi(f"/cgi-bin/attack.cgi?victim={bob_worker}&master={self.srv.pid}"
                     f"&read={secret}")
        self.assertStatus(r, 200)
        out = r.body.decode()
        res = {}
        for line in out.splitlines():
            m = re.match(r"^(\w+)=(-?\d+) errno=(\d+)$", line)
            if m:
                res[m.group(1)] = (int(m.group(2)), int(m.group(3)))
        for name in ("setresuid", "setuid", "seteuid", "setresgid", "setgroups", "ptrace",
                     "killvictim", "kill"):
            self.assertIn(name, res, f"the attack CGI did not report {name}: {out}")
            self.assertEqual(res[name], (-1, errno.EPERM), f"{name} did not fail with EPERM: {out}")
        self.assertEqual(res["open"], (-1, errno.EACCES), f"bob's 0600 file: {out}")
        self.assertNotIn("BOB-SECRET", out)
        self.assertIn(f"ids={h.ALICE_UID},{h.ALICE_UID},{h.ALICE_UID}", out)
        self.assertIn("fds=0,1,2,\n", out, "a script must see only fds 0, 1 and 2")
        self.assertTrue(h.alive(self.srv.pid), "the master died")
        self.assertIsNone(self.srv.proc.poll())
        self.assertTrue(h.alive(bob_worker), "bob's worker died")
        self.assertEqual(h.status(bob_worker).get("TracerPid"), "0")
        self.assertStatus(h.get(self.port, "/", host="bob.test"), 200)

    def test_fork_bomb_bounded_while_bob_answers(self):
        self.wait_no_leftovers(h.ALICE_UID)
        h.get(self.port, "/", host="bob.test")
        r = self.cgi("/cgi-bin/forkbomb.pl")
        self.assertStatus(r, 200)
        m = re.search(rb"forked=(\d+) failed=(\d+) errno=(\d+)", r.body)
        self.assertIsNotNone(m, r.body)
        forked, failed, err = (int(x) for x in m.groups())
        self.assertLess(forked, 20, "RLimitNPROC 20 did not bound the fork bomb")
        self.assertGreaterEqual(failed, 1)
        self.assertEqual(err, errno.EAGAIN)
        # While alice's uid is at its process limit, bob is served, static and CGI.
        self.assertStatus(h.get(self.port, "/", host="bob.test"), 200)
        rb = h.get(self.port, "/cgi-bin/id.sh", host="bob.test")
        self.assertStatus(rb, 200, "bob's CGI while alice is at her limit")
        self.assertIn(f"uid={h.BOB_UID}".encode(), rb.body)
        self.assertEqual(self.wait_no_leftovers(h.ALICE_UID), [],
                         "the fork bomb's children outlived their sleep")
        r = self.cgi("/cgi-bin/id.sh")
        self.assertStatus(r, 200, "alice after the bomb")
        self.assertIn(f"uid={h.ALICE_UID}".encode(), r.body, "alice's CGI after the bomb")

    def test_endless_loop_killed_at_timeout(self):
        self.wait_no_leftovers(h.ALICE_UID)
        t0 = time.monotonic()
        with h.Conn(self.port, timeout=15) as c:
            r = c.request("GET", "/cgi-bin/loop.sh", host="alice.test",
                          headers=[("Connection", "close")])
        took = time.monotonic() - t0
        self.assertStatus(r, 504)
        self.assertGreaterEqual(took, 1.5, "answered before Timeout 2")
        self.assertLess(took, 8, "Timeout 2 took far longer")
        left = self.wait_no_leftovers(h.ALICE_UID, timeout=3)
        self.assertEqual(left, [], "processes of the script's group survived: "
                         + ", ".join(f"{p} {h.cmdline(p)}" for p in left))
        self.assertStatus(self.get("/"), 200)

    def test_read_other_tenants_file_fails(self):
        secret = os.path.join(self.srv.bob.home, "private/secret0600.txt")
        r = self.cgi(f"/cgi-bin/attack.cgi?read={secret}")
        self.assertIn(f"open=-1 errno={errno.EACCES}".encode(), r.body)
        self.assertNotIn(b"BOB-SECRET", r.body)

    # ------------------------------------------------------------ bodies

    def test_chunked_upload(self):
        parts = [b"first-part;", b"x" * 5000, b";last"]
        data = b"".join(parts)
        body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
        with h.Conn(self.port) as c:
            r = c.request("POST", "/cgi-bin/echo.pl", host="alice.test", body=body,
                          headers=[("Transfer-Encoding", "chunked"), ("Connection", "close")])
        self.assertStatus(r, 200)
        kv = parse_kv(r.body)
        self.assertEqual(kv.get("CONTENT_LENGTH"), str(len(data)), r.body)
        self.assertEqual(kv.get("read"), str(len(data)))
        self.assertEqual(kv.get("sha256"), hashlib.sha256(data).hexdigest())

    def test_10mb_upload(self):
        data = os.urandom(10 * 1024 * 1024)
        with h.Conn(self.port, timeout=30) as c:
            r = c.request("POST", "/cgi-bin/echo.pl", host="alice.test", body=data,
                          headers=[("Content-Type", "application/octet-stream"),
                                   ("Connection", "close")])
        self.assertStatus(r, 200)
        kv = parse_kv(r.body)
        self.assertEqual(kv.get("read"), str(len(data)), r.body)
        self.assertEqual(kv.get("sha256"), hashlib.sha256(data).hexdigest())

    def test_streams_100mb(self):
        want = hashlib.sha256()
        for _ in range(STREAM_BLOCKS):
            want.update(STREAM_BLOCK)
        got = hashlib.sha256()
        n = 0
        with h.Conn(self.port, timeout=30) as c:
            c.send("GET /cgi-bin/stream.pl HTTP/1.1\r\nHost: alice.test\r\n\r\n")
            code, headers = read_head(c)
            self.assertEqual(code, 200)
            self.assertNotIn("content-length", headers)
            self.assertEqual(headers.get("transfer-encoding", "").lower(), "chunked",
                             "a script's answer without a length must be chunked on HTTP/1.1")
            while True:
                chunk = read_chunk(c)
                if not chunk:
                    self.assertEqual(c._read_until(b"\r\n"), b"\r\n")
                    break
                n += len(chunk)
                got.update(chunk)
            self.assertEqual(n, len(STREAM_BLOCK) * STREAM_BLOCKS)
            self.assertEqual(got.hexdigest(), want.hexdigest())
            # Unless the server announced a close, the connection is usable after 100 MB.
            if headers.get("connection", "").lower() != "close":
                r = c.request("GET", "/index.html", host="alice.test")
                self.assertEqual(r.body, h.ALICE_INDEX)

    def test_streams_100mb_to_a_late_reader_on_connection_close(self):
        # The last request of a connection waits for its script without epoll watching
        # the socket; once the client stops reading, the answer must still get through.
        want = hashlib.sha256()
        for _ in range(STREAM_BLOCKS):
            want.update(STREAM_BLOCK)
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as s:
            s.sendall(b"GET /cgi-bin/stream.pl HTTP/1.0\r\nHost: alice.test\r\nConnection: close\r\n\r\n")
            time.sleep(1.0)  # every buffer on the way fills up meanwhile
            data = bytearray()
            while True:
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                data += chunk
        head, _, body = bytes(data).partition(b"\r\n\r\n")
        self.assertEqual(head.split(b" ")[1], b"200", head[:200])
        self.assertEqual(len(body), len(STREAM_BLOCK) * STREAM_BLOCKS)
        self.assertEqual(hashlib.sha256(body).hexdigest(), want.hexdigest())

    def test_script_dying_mid_response(self):
        with h.Conn(self.port, timeout=10) as c:
            c.send("GET /cgi-bin/dies.pl HTTP/1.1\r\nHost: alice.test\r\n\r\n")
            try:
                r = c.read_response()
            except (h.ProtocolError, ValueError):
                r = None  # truncated: the client can tell the answer is incomplete
            # Apache's mod_cgi ends the answer at the pipe's EOF whatever killed the script,
            # so a complete 200 with exactly what the script wrote is accepted too; what must
            # not happen is a hang, other bytes, or a worker that stops serving.
            if r is not None and r.status == 200:
                self.assertEqual(r.body, b"x" * 1000)
            elif r is not None:
                self.assertGreaterEqual(r.status, 500, r)
        self.assertStatus(self.get("/"), 200)
        self.assertStatus(self.cgi("/cgi-bin/id.pl"), 200)

    # ------------------------------------------------------------ response heads

    def test_malformed_header_is_500_and_logged(self):
        watch = h.LogWatch(self.srv.alice.error_log)
        r = self.cgi("/cgi-bin/badhead.pl")
        self.assertStatus(r, 500)
        text = h.wait_for(lambda: (lambda t: t if "badhead.pl" in t else None)(
            watch.new_text(self.srv.alice.error_log)), timeout=5,
            what="a log line naming badhead.pl in alice's error log")
        self.assertIn("badhead.pl", text)

    def test_script_alias_directory_is_403_as_in_mod_cgi(self):
        # With or without the slash: mod_alias makes it a script, mod_cgi refuses a directory.
        for path in ("/cgi-bin/subdir", "/cgi-bin/subdir/"):
            watch = h.LogWatch(self.srv.alice.error_log, self.srv.error_log)
            r = self.cgi(path)
            self.assertStatus(r, 403)
            h.wait_for(lambda: "attempt to invoke directory as script" in
                       watch.new_text(self.srv.alice.error_log) + watch.new_text(self.srv.error_log),
                       timeout=5, what=f"mod_cgi's reason for {path} in the log")
        self.assertStatus(self.cgi("/cgi-bin/missing.pl"), 404)

    def test_stderr_goes_to_vhost_error_log(self):
        watch = h.LogWatch(self.srv.alice.error_log, self.srv.bob.error_log, self.srv.error_log)
        r = self.cgi("/cgi-bin/stderr.pl")
        self.assertStatus(r, 200)
        h.wait_for(lambda: "STDERR-MARKER-4711" in watch.new_text(self.srv.alice.error_log),
                   timeout=5, what="the script's stderr in alice's error log")
        self.assertNotIn("STDERR-MARKER-4711", watch.new_text(self.srv.bob.error_log))

    def test_status_header(self):
        r = self.cgi("/cgi-bin/status404.pl")
        self.assertStatus(r, 404)
        self.assertEqual(r.body, b"script says gone\n")

    def test_local_location_is_internal_redirect(self):
        r = self.cgi("/cgi-bin/local.pl")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, h.ALICE_INDEX)
        self.assertIsNone(r.header("location"))

    def test_absolute_location_is_302(self):
        r = self.cgi("/cgi-bin/absolute.pl")
        self.assertStatus(r, 302)
        self.assertEqual(r.header("location"), "http://x/")


if __name__ == "__main__":
    h.main()
