#!/usr/bin/env python3
"""HTTPS with each owner's own key (issue 4): SNI routing in the front, TLS terminated by the
owner's worker, 421 on Host/SNI mismatch, protocol policy, key isolation, no leaks.

setUpClass makes a test CA and one leaf per tenant with `openssl`; each key is mode 0600 and
owned by its tenant. (testssl.sh is not run here.)
"""

import errno
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time
import unittest
import warnings

import itkd_harness as h

# Reads a file named by QUERY_STRING and reports whether open() worked (key theft attempt).
PL_OPEN = b"""#!/usr/bin/perl
print "Content-Type: text/plain\\n\\n";
if (open(my $f, "<", $ENV{QUERY_STRING})) { print "open=0 errno=0\\n" }
else { print "open=-1 errno=", $! + 0, "\\n" }
"""

PL_ENV = b"""#!/usr/bin/perl
print "Content-Type: text/plain\\n\\n";
print "$_=$ENV{$_}\\n" for sort keys %ENV;
"""


def openssl(*args, cwd=None):
    tool = h.require_tool("openssl")
    p = subprocess.run([tool] + list(args), capture_output=True, text=True, cwd=cwd)
    if p.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed: {p.stderr}")
    return p.stdout


def make_pki(srv):
    """CA in <root>/pki (root only); leaf cert and key in each tenant's <home>/ssl."""
    pki = os.path.join(srv.root, "pki")
    h._mkdir(pki, 0, 0, 0o700)
    srv.ca = os.path.join(pki, "ca.pem")
    ca_key = os.path.join(pki, "ca.key")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", ca_key, "-out", srv.ca, "-days", "2",
            "-subj", "/CN=itkd e2e test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    os.chmod(srv.ca, 0o644)
    for t in (srv.alice, srv.bob):
        name = f"{t.name}.test"
        d = os.path.join(t.home, "ssl")
        h._mkdir(d, t.uid, t.uid, 0o700)
        t.key = os.path.join(d, f"{t.name}.key")
        t.crt = os.path.join(d, f"{t.name}.crt")
        csr = os.path.join(pki, f"{t.name}.csr")
        ext = os.path.join(pki, f"{t.name}.ext")
        with open(ext, "w") as f:
            f.write(f"subjectAltName=DNS:{name},DNS:www.{name}\nbasicConstraints=CA:FALSE\n"
                    f"keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
                    f"subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
        openssl("req", *ec, "-keyout", t.key, "-out", csr, "-subj", f"/CN={name}")
        openssl("x509", "-req", "-in", csr, "-CA", srv.ca, "-CAkey", ca_key,
                "-CAcreateserial", "-out", t.crt, "-days", "2", "-extfile", ext)
        os.chown(t.key, t.uid, t.uid)
        os.chmod(t.key, 0o600)
        os.chown(t.crt, t.uid, t.uid)
        os.chmod(t.crt, 0o644)


def setup(srv):
    h.require_tool("perl")
    make_pki(srv)
    for t in (srv.alice, srv.bob):
        t.home_write("cgi-bin/open.pl", PL_OPEN, mode=0o755)
        t.home_write("cgi-bin/env.pl", PL_ENV, mode=0o755)


def tls_vhost(t, extra=""):
    return (f"  SSLEngine on\n"
            f"  SSLCertificateFile {t.crt}\n"
            f"  SSLCertificateKeyFile {t.key}\n"
            f"  ScriptAlias /cgi-bin/ {t.home}/cgi-bin/\n" + extra)


def config(srv):
    text = h.standard_config(
        srv,
        alice_extra=tls_vhost(srv.alice, "  SSLProtocol -all +TLSv1.2 +TLSv1.3\n"
                                         "  SSLSessionTickets on\n"
                                         "  Header always set Strict-Transport-Security "
                                         "\"max-age=63072000\" env=HTTPS\n"
                                         "  Header always echo ^X-Echo-\n"
                                         "  RewriteEngine On\n"
                                         "  RewriteRule ^/pretty$ /index.html [L]\n"),
        bob_extra=tls_vhost(srv.bob))
    listen = f"Listen 127.0.0.1:{srv.port}\n"
    assert listen in text
    return text.replace(listen, f"Listen 127.0.0.1:{srv.port} https\n")


def client_ctx(ca, alpn=None, max_version=None):
    ctx = ssl.create_default_context(cafile=ca)
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if max_version:
        ctx.maximum_version = max_version
    return ctx


def cert_names(cert):
    cn = [v for rdn in cert.get("subject", ()) for k, v in rdn if k == "commonName"]
    san = [v for k, v in cert.get("subjectAltName", ()) if k == "DNS"]
    return cn, san


class TlsConn(h.Conn):
    """h.Conn over TLS: same request/response helpers on an SSLSocket."""

    def __init__(self, port, ca, sni, ctx=None, session=None, timeout=5.0):
        super().__init__(port, timeout=timeout)
        ctx = ctx or client_ctx(ca)
        if sni is None:
            ctx.check_hostname = False
        self.sock = ctx.wrap_socket(self.sock, server_hostname=sni, session=session)

    def cert(self):
        return self.sock.getpeercert()


def proc_fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def vm_rss_kb(pid):
    try:
        return int(h.status(pid)["VmRSS"].split()[0])
    except (OSError, KeyError):
        return None


class TlsBase(h.ServerTestCase):
    config = config
    setup_tree = setup

    def tls(self, sni, **kw):
        return TlsConn(self.port, self.srv.ca, sni, **kw)

    def tls_get(self, sni, path="/", host=None, **kw):
        with self.tls(sni, **kw) as c:
            r = c.request("GET", path, host=host or sni, headers=[("Connection", "close")])
            return r, c.cert()


class Tls(TlsBase):

    # ------------------------------------------------------------ routing by SNI

    def test_each_owner_gets_own_certificate_and_page(self):
        for name, page in (("alice.test", h.ALICE_INDEX), ("bob.test", h.BOB_INDEX),
                           ("www.bob.test", h.BOB_INDEX)):
            with self.subTest(name=name):
                r, cert = self.tls_get(name)
                self.assertStatus(r, 200, name)
                self.assertEqual(r.body, page)
                cn, san = cert_names(cert)
                self.assertIn(name, san, f"certificate for {name}: {cert}")

    def test_curl_with_test_ca(self):
        h.require_tool("curl")
        for name, page in (("alice.test", h.ALICE_INDEX), ("bob.test", h.BOB_INDEX)):
            rc, out, err = h.curl(["--resolve", f"{name}:{self.port}:127.0.0.1",
                                   "--cacert", self.srv.ca, f"https://{name}:{self.port}/"])
            self.assertEqual(rc, 0, f"curl {name}: {err}")
            self.assertEqual(out, page)

    def test_openssl_s_client_shows_each_leaf(self):
        tool = h.require_tool("openssl")
        for name in ("alice.test", "bob.test"):
            p = subprocess.run([tool, "s_client", "-connect", f"127.0.0.1:{self.port}",
                                "-servername", name, "-CAfile", self.srv.ca,
                                "-verify_return_error"],
                               input=b"", capture_output=True, timeout=15)
            out = p.stdout.decode("utf-8", "replace")
            self.assertRegex(out, rf"subject=\s*CN\s*=\s*{re.escape(name)}", out[-1500:])
            self.assertIn("Verify return code: 0 (ok)", out)

    def test_no_sni_gets_default_vhost_certificate(self):
        with self.tls(None) as c:
            cn, san = cert_names(c.cert())
            self.assertEqual(cn, ["alice.test"], "the first vhost is the default")
            r = c.request("GET", "/", host="alice.test", headers=[("Connection", "close")])
        self.assertStatus(r, 200)
        self.assertEqual(r.body, h.ALICE_INDEX)

    def test_host_not_matching_sni_is_421(self):
        r, cert = self.tls_get("alice.test", host="bob.test")
        self.assertStatus(r, 421)
        self.assertNotIn(b"BOB-MARKER", r.body)

    def test_keepalive_owner_switch_is_421(self):
        with self.tls("alice.test") as c:
            r1 = c.request("GET", "/", host="alice.test")
            self.assertEqual(r1.body, h.ALICE_INDEX)
            r2 = c.request("GET", "/", host="bob.test")
        self.assertStatus(r2, 421)
        self.assertNotIn(b"BOB-MARKER", r2.body)

    def test_keepalive_switch_after_a_rewritten_request_is_421(self):
        # The 421 is answered before the new request is rewritten: its Header rules must
        # see this request, not the previous one's rewritten copy (whose views point into
        # a buffer that has moved on).
        with self.tls("alice.test") as c:
            r1 = c.request("GET", "/pretty", host="alice.test", headers=[("X-Echo-A", "one")])
            self.assertEqual(r1.body, h.ALICE_INDEX)
            self.assertEqual(r1.header("x-echo-a"), "one")
            r2 = c.request("GET", "/", host="bob.test", headers=[("X-Echo-B", "two")])
        self.assertStatus(r2, 421)
        self.assertIsNone(r2.header("x-echo-a"))
        self.assertEqual(r2.header("x-echo-b"), "two")

    def test_https_environment_for_cgi(self):
        r, _ = self.tls_get("alice.test", "/cgi-bin/env.pl")
        self.assertStatus(r, 200)
        self.assertIn(b"\nHTTPS=on\n", r.body)
        self.assertIn(b"\nREQUEST_SCHEME=https\n", r.body)
        self.assertIn(b"\nSERVER_NAME=alice.test\n", r.body)
        self.assertRegex(r.body, rb"\nSSL_PROTOCOL=TLSv1\.[23]\n")
        self.assertRegex(r.body, rb"\nSSL_CIPHER=[A-Z0-9_-]+\n")
        self.assertIn(b"\nSSL_TLS_SNI=alice.test\n", r.body)

    def test_hsts_header_on_tls_answers(self):
        # mod_headers' env=HTTPS: set on TLS connections, as mod_ssl sets HTTPS.
        for path, status in (("/", 200), ("/missing", 404)):
            r, _ = self.tls_get("alice.test", path)
            self.assertStatus(r, status)
            self.assertEqual(r.header("strict-transport-security"), "max-age=63072000")
        r, _ = self.tls_get("bob.test")
        self.assertIsNone(r.header("strict-transport-security"))

    # ------------------------------------------------------------ hostile bytes

    def test_client_hello_one_byte_per_send(self):
        ctx = client_ctx(self.srv.ca)
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, out, server_hostname="bob.test")
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                obj.do_handshake()
            except ssl.SSLWantReadError:
                pass
            hello = out.read()
            self.assertGreater(len(hello), 100)
            for i in range(len(hello)):
                s.send(hello[i:i + 1])
                time.sleep(0.001)
            while True:
                try:
                    obj.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    pending = out.read()
                    if pending:
                        s.sendall(pending)
                    data = s.recv(65536)
                    self.assertTrue(data, "the server closed during a dribbled handshake")
                    inc.write(data)
            s.sendall(out.read())
            cn, _ = cert_names(obj.getpeercert())
            self.assertEqual(cn, ["bob.test"])
            obj.write(b"GET / HTTP/1.1\r\nHost: bob.test\r\nConnection: close\r\n\r\n")
            s.sendall(out.read())
            got = b""
            while True:
                try:
                    chunk = obj.read(65536)
                    if not chunk:  # close_notify: SSLObject.read returns b"" at a clean end
                        break
                    got += chunk
                    continue
                except ssl.SSLWantReadError:
                    pass
                except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                    break
                data = s.recv(65536)
                if not data:
                    break
                inc.write(data)
        self.assertTrue(got.startswith(b"HTTP/1.1 200"), got[:200])
        self.assertIn(h.BOB_INDEX, got)

    def test_garbage_first_bytes_closed_and_logged(self):
        for garbage in (b"\x00\x01\x02\x03garbage-not-tls" * 4,
                        b"\x16\x03\x01\x00\x08\x01\xff\xff\xff\xee\xee\xee\xee" + b"\x00" * 40):
            with self.subTest(garbage=garbage[:8]):
                watch = h.LogWatch(self.srv.error_log, self.srv.alice.error_log)
                with h.Conn(self.port) as c:
                    c.send(garbage)
                    self.assertTrue(c.closed_by_peer(timeout=5), "not closed after garbage")
                    self.assertNotIn(b"HTTP/1.1 200", c.buf)
                h.wait_for(lambda: "127.0.0.1" in watch.all_new(), timeout=5,
                           what="a log line naming the client that sent garbage")
        r, _ = self.tls_get("alice.test")
        self.assertStatus(r, 200, "after garbage")

    def test_plain_http_to_tls_port(self):
        resp, closed = h.raw_exchange(self.port,
                                      b"GET / HTTP/1.1\r\nHost: alice.test\r\n\r\n")
        if resp is not None:
            self.assertEqual(resp.status, 400)
            self.assertNotIn(b"ALICE-MARKER", resp.body)
        self.assertTrue(closed)
        r, _ = self.tls_get("alice.test")
        self.assertStatus(r, 200)

    # ------------------------------------------------------------ protocol policy

    def test_tls_1_0_and_1_1_refused(self):
        warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1/TLSv1_1 on purpose
        for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
            with self.subTest(version=version):
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # so this client really offers it
                ctx.minimum_version = version
                ctx.maximum_version = version
                with self.assertRaises(ssl.SSLError) as cm:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                        with ctx.wrap_socket(s, server_hostname="alice.test"):
                            pass
                reason = getattr(cm.exception, "reason", "") or ""
                self.assertNotIn(reason, ("NO_PROTOCOLS_AVAILABLE", "NO_CIPHERS_AVAILABLE"),
                                 f"the client did not offer {version}: {cm.exception}")
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            with self.subTest(version=version):
                with self.tls("bob.test", ctx=client_ctx(self.srv.ca, max_version=version)) as c:
                    self.assertEqual(c.sock.version(), version.name.replace("v1_", "v1."))

    def test_pipelined_requests_in_one_write(self):
        # Both requests arrive as records in one read: the second must not wait in
        # OpenSSL's read-ahead buffer, where epoll can't see it.
        with self.tls("alice.test") as c:
            req = b"GET / HTTP/1.1\r\nHost: alice.test\r\n\r\n"
            # One TLS record per request, all in one TCP segment (corked).
            c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            for r in (req, req.replace(b"GET / ", b"GET /nope "),
                      b"GET / HTTP/1.1\r\nHost: alice.test\r\nConnection: close\r\n\r\n"):
                c.sock.sendall(r)
            c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
            self.assertStatus(c.read_response(), 200)
            self.assertStatus(c.read_response(), 404)
            last = c.read_response()
            self.assertStatus(last, 200)
            self.assertEqual(last.body, h.ALICE_INDEX)

    def test_alpn_selects_http11(self):
        ctx = client_ctx(self.srv.ca, alpn=["h2", "http/1.1"])
        with self.tls("alice.test", ctx=ctx) as c:
            self.assertEqual(c.sock.selected_alpn_protocol(), "http/1.1")
            r = c.request("GET", "/", host="alice.test", headers=[("Connection", "close")])
        self.assertEqual(r.body, h.ALICE_INDEX)

    def test_session_resumption_per_owner(self):
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            with self.subTest(version=version):
                ctx = client_ctx(self.srv.ca, max_version=version)
                with self.tls("alice.test", ctx=ctx) as c:
                    c.request("GET", "/", host="alice.test")  # TLS 1.3 tickets come late
                    session = c.sock.session
                self.assertIsNotNone(session)
                with self.tls("alice.test", ctx=ctx, session=session) as c:
                    self.assertTrue(c.sock.session_reused, f"{version}: alice not resumed")
                    r = c.request("GET", "/", host="alice.test",
                                  headers=[("Connection", "close")])
                    self.assertEqual(r.body, h.ALICE_INDEX)
                # Alice's session must not resume at bob's worker.
                with self.tls("bob.test", ctx=ctx, session=session) as c:
                    self.assertFalse(c.sock.session_reused,
                                     f"{version}: alice's session resumed at bob's vhost")
                    self.assertEqual(cert_names(c.cert())[0], ["bob.test"])

    def test_ticket_resumes_in_another_worker_of_the_same_pool(self):
        # The master gives every worker of a pool the same ticket keys: a ticket issued by
        # one worker resumes in the next one (a pool of several workers, or a worker that
        # was replaced), as it does across nginx's workers. Without this every handshake
        # that lands on a sibling was a full one.
        ctx = client_ctx(self.srv.ca, max_version=ssl.TLSVersion.TLSv1_3)
        with self.tls("alice.test", ctx=ctx) as c:
            c.request("GET", "/", host="alice.test")
            session = c.sock.session
        old = self.srv.workers_with_uid(h.ALICE_UID)
        self.assertTrue(old)
        for pid in old:
            os.kill(pid, signal.SIGTERM)
        h.wait_for(lambda: not any(h.alive(p) for p in old), what="alice's workers to exit")
        with self.tls("alice.test", ctx=ctx, session=session) as c:
            self.assertTrue(c.sock.session_reused, "a sibling worker did not resume the pool's ticket")
            r = c.request("GET", "/", host="alice.test", headers=[("Connection", "close")])
            self.assertEqual(r.body, h.ALICE_INDEX)
        new = self.srv.workers_with_uid(h.ALICE_UID)
        self.assertTrue(new and not set(new) & set(old), f"old {old}, new {new}")

    # ------------------------------------------------------------ isolation

    def key_paths(self):
        return [self.srv.alice.key, self.srv.bob.key]

    def test_fronts_and_master_hold_no_key(self):
        self.tls_get("alice.test")
        self.tls_get("bob.test")
        keys = self.key_paths()
        for pid in self.srv.fronts() + [self.srv.pid]:
            with open(f"/proc/{pid}/maps") as f:
                maps = f.read()
            for key in keys:
                self.assertNotIn(key, maps, f"process {pid} maps {key}")
                self.assertNotIn(key, h.fds(pid).values(), f"process {pid} holds {key}")
            self.assertFalse(any(t.endswith(".key") for t in h.fds(pid).values()),
                             f"process {pid}: {h.fds(pid)}")

    def test_bob_cannot_open_alices_key(self):
        a = self.srv.alice
        st = os.stat(a.key)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (h.ALICE_UID, 0o600))
        r, _ = self.tls_get("bob.test", f"/cgi-bin/open.pl?{a.key}")
        self.assertStatus(r, 200)
        self.assertEqual(r.body.strip(), f"open=-1 errno={errno.EACCES}".encode())
        r, _ = self.tls_get("alice.test", f"/cgi-bin/open.pl?{a.key}")
        self.assertEqual(r.body.strip(), b"open=0 errno=0", "alice's own key")
        for pid in self.srv.workers_with_uid(h.BOB_UID):
            self.assertEqual(h.uid_of(pid), h.BOB_UID)
            self.assertNotIn(a.key, h.fds(pid).values())

    def test_1000_handshakes_no_fd_growth(self):
        ctx = client_ctx(self.srv.ca)

        def handshake(name):
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                with ctx.wrap_socket(s, server_hostname=name):
                    pass

        for i in range(50):  # warm up: pools started, caches filled
            handshake("alice.test" if i % 2 else "bob.test")
        watched = self.srv.fronts() + list(self.srv.workers())
        time.sleep(0.5)
        before = {p: proc_fd_count(p) for p in watched}
        rss_before = {p: vm_rss_kb(p) for p in watched}
        t0 = time.monotonic()
        for i in range(1000):
            handshake("alice.test" if i % 2 else "bob.test")
        took = time.monotonic() - t0
        self.assertLess(took, 30, "1000 handshakes took too long")

        def settled():
            now = {p: proc_fd_count(p) for p in watched}
            return now if all(now[p] is not None and now[p] <= before[p] + 2
                              for p in watched) else None
        try:
            h.wait_for(settled, timeout=5, what="fd counts back to their level")
        except AssertionError:
            now = {p: proc_fd_count(p) for p in watched}
            self.fail(f"fds grew over 1000 handshakes: before {before}, after {now}")
        # ASan keeps freed memory in quarantine (hundreds of MiB): RSS says nothing there.
        with open(h.binary(), "rb") as f:
            sanitized = b"__asan_init" in f.read()
        for p in watched:
            grew = (vm_rss_kb(p) or 0) - (rss_before[p] or 0)
            if not sanitized:
                self.assertLess(grew, 20 * 1024, f"process {p} grew by {grew} kB")
        self.assertIsNone(self.srv.proc.poll())


class KeyOpenedOnlyByOwner(TlsBase):
    """A fresh server: strace the master and everything it starts during the first TLS
    request, and check that only alice's worker opens alice's key."""

    def test_key_opened_only_by_alices_worker(self):
        strace = h.require_tool("strace")
        self.assertEqual(self.srv.workers_with_uid(h.ALICE_UID), [],
                         "alice's pool started before any request")
        out = os.path.join(self.srv.root, "strace.out")
        pids = [self.srv.pid] + h.descendants(self.srv.pid)
        args = [strace, "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", out]
        for p in pids:
            args += ["-p", str(p)]
        tracer = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
        try:
            h.wait_for(lambda: all(h.status(p).get("TracerPid") not in (None, "0")
                                   for p in pids if h.alive(p)),
                       timeout=10, what="strace attached to the master and its children")
            r, cert = self.tls_get("alice.test")
            self.assertStatus(r, 200)
            self.assertEqual(cert_names(cert)[0], ["alice.test"])
            time.sleep(0.3)
        finally:
            tracer.send_signal(signal.SIGINT)
            try:
                tracer.wait(10)
            except subprocess.TimeoutExpired:
                tracer.kill()
                tracer.wait()
        text = h.read_text(out)
        key = self.srv.alice.key
        openers = set()
        for line in text.splitlines():
            if f'"{key}"' in line:
                openers.add(int(line.split()[0]))
        self.assertTrue(openers, f"nobody opened {key} during the first request "
                                 f"(traced {len(text.splitlines())} lines)")
        for pid in openers:
            self.assertNotEqual(pid, self.srv.pid, "the master opened alice's key")
            self.assertNotIn(pid, self.srv.fronts(), "a front opened alice's key")
            self.assertEqual(h.uid_of(pid), h.ALICE_UID,
                             f"process {pid} ({h.cmdline(pid)}) opened alice's key")
            self.assertIn(pid, self.srv.workers_with_uid(h.ALICE_UID))
        self.assertNotIn(f'"{self.srv.bob.key}"', text, "bob's key was opened for alice")


def renew_alice(srv, tag):
    """What certbot does on renewal: a new key and certificate, moved into place with
    rename(2) so the server never reads a half-written file. Returns the new serial."""
    t = srv.alice
    pki = os.path.join(srv.root, "pki")
    key_tmp, crt_tmp = t.key + ".new", t.crt + ".new"
    csr = os.path.join(pki, f"alice-{tag}.csr")
    ext = os.path.join(pki, "alice.ext")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", *ec, "-keyout", key_tmp, "-out", csr, "-subj", f"/CN=alice.test/OU={tag}")
    openssl("x509", "-req", "-in", csr, "-CA", srv.ca, "-CAkey", os.path.join(pki, "ca.key"),
            "-CAcreateserial", "-out", crt_tmp, "-days", "2", "-extfile", ext)
    for path, mode in ((key_tmp, 0o600), (crt_tmp, 0o644)):
        os.chown(path, t.uid, t.uid)
        os.chmod(path, mode)
    os.rename(key_tmp, t.key)
    os.rename(crt_tmp, t.crt)
    serial = openssl("x509", "-in", t.crt, "-noout", "-serial").strip().split("=", 1)[1]
    return serial.upper()


def acme_config(srv):
    """The TLS fixture plus Apache's usual port-80 side: alice's plain vhost serves the
    ACME webroot from her docroot, bob's redirects everything to https."""
    plain = srv.ports[1]
    text = config(srv).replace(f"Listen 127.0.0.1:{srv.port} https\n",
                               f"Listen 127.0.0.1:{srv.port} https\nListen 127.0.0.1:{plain}\n")
    return (text
            + h.vhost_block(f"*:{plain}", "alice.test", srv.alice)
            + h.vhost_block(f"*:{plain}", "bob.test", srv.bob,
                            extra="  Redirect permanent / https://bob.test/\n"))


class CertificateRenewal(TlsBase):
    """Issue 4: renewals by certbot's webroot mode just work, and certificates reload on
    SIGHUP with no dropped connection while clients keep arriving."""

    config = acme_config
    nports = 2

    def test_acme_challenge_served_from_docroot_over_http(self):
        token = "Xk2-challenge_token"
        body = b"Xk2-challenge_token.thumbprint\n"
        self.srv.alice.write(f".well-known/acme-challenge/{token}", body)
        r = h.get(self.srv.ports[1], f"/.well-known/acme-challenge/{token}", host="alice.test")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, body)

    def test_port_80_redirect_permanent_to_https(self):
        r = h.get(self.srv.ports[1], "/some/page?x=1", host="bob.test")
        self.assertStatus(r, 301)
        self.assertEqual(r.header("Location"), "https://bob.test/some/page?x=1")

    def test_sighup_loads_renewed_certificate_without_dropping_connections(self):
        before = self.tls_get("alice.test")[1]["serialNumber"].upper()
        failures, served = [], [0]
        stop = threading.Event()

        def new_connections():  # a fresh handshake per request, as browsers arriving
            while not stop.is_set():
                try:
                    r, cert = self.tls_get("alice.test")
                    if r.status != 200 or r.body != h.ALICE_INDEX:
                        failures.append(f"new connection: {r.status}")
                    served[0] += 1
                except (OSError, AssertionError) as e:
                    failures.append(f"new connection: {e!r}")

        closed_by_server = []

        def keep_alive():  # a connection made before the reload and used across it
            c = self.tls("alice.test")
            try:
                while not stop.is_set():
                    r = c.request("GET", "/", host="alice.test")
                    if r.status != 200:
                        failures.append(f"keep-alive: {r.status}")
                    served[0] += 1
                    if (r.header("Connection") or "").lower() == "close":
                        # As any HTTP client: the server said so, so use a new connection.
                        closed_by_server.append(r)
                        c.close()
                        c = self.tls("alice.test")
                    time.sleep(0.01)
            except (OSError, AssertionError) as e:
                failures.append(f"keep-alive connection: {e!r}")
            finally:
                c.close()

        threads = [threading.Thread(target=f) for f in (new_connections, new_connections,
                                                         keep_alive)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.3)
            after = renew_alice(self.srv, "renewed")
            self.assertNotEqual(before, after)
            os.kill(self.srv.pid, signal.SIGHUP)
            h.wait_for(lambda: self.tls_get("alice.test")[1]["serialNumber"].upper() == after,
                       timeout=10, interval=0.1, what="the renewed certificate after SIGHUP")
            time.sleep(0.3)
        finally:
            stop.set()
            for t in threads:
                t.join(10)
        self.assertEqual(failures, [], f"{len(failures)} of {served[0]} requests failed")
        self.assertGreater(served[0], 20)
        # The retired worker answered the keep-alive client once more, then let it go.
        self.assertEqual(len(closed_by_server), 1, "the keep-alive connection should move "
                         "to the new generation exactly once")
        self.assertIsNone(self.srv.proc.poll(), "the master died")
        # bob's certificate is untouched, and his site still answers.
        r, cert = self.tls_get("bob.test")
        self.assertStatus(r, 200)
        self.assertIn(("commonName", "bob.test"), [kv for rdn in cert["subject"] for kv in rdn])


if __name__ == "__main__":
    h.main()
