#!/usr/bin/env python3
"""Self-checks of the harness that need no itkd: the HTTP client against a scripted
socket server, the /proc helpers on processes we start, the tenant tree's permissions."""

import os
import socket
import stat
import subprocess
import sys
import threading
import time
import unittest

import itkd_harness as h


class ScriptedServer:
    """Accepts one connection, reads a little, writes `reply` bytes, then closes or not."""

    def __init__(self, reply, close=True):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.reply, self.close = reply, close
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        conn, _ = self.sock.accept()
        conn.recv(65536)
        for i in range(0, len(self.reply), 7):  # tiny writes: the client must reassemble
            conn.sendall(self.reply[i:i + 7])
        if self.close:
            conn.close()
        else:
            time.sleep(1.5)
            conn.close()
        self.sock.close()


class Client(unittest.TestCase):

    def exchange(self, reply, method="GET", close=True):
        srv = ScriptedServer(reply, close)
        with h.Conn(srv.port) as c:
            c.send(f"{method} / HTTP/1.1\r\nHost: x\r\n\r\n")
            first = c.read_response(method)
            rest = []
            while c.buf or not c.eof:
                try:
                    rest.append(c.read_response())
                except h.ProtocolError:
                    break
            return first, rest

    def test_content_length(self):
        r, rest = self.exchange(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello")
        self.assertEqual((r.status, r.reason, r.body), (200, "OK", b"hello"))
        self.assertEqual(r.header("x-a"), "b")
        self.assertEqual(rest, [])

    def test_chunked_with_trailer(self):
        r, _ = self.exchange(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"5;x=y\r\nhello\r\n1\r\n!\r\n0\r\nT: v\r\n\r\n")
        self.assertEqual(r.body, b"hello!")

    def test_chunked_no_trailer(self):
        r, _ = self.exchange(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"3\r\nabc\r\n0\r\n\r\n")
        self.assertEqual(r.body, b"abc")

    def test_close_delimited(self):
        r, _ = self.exchange(b"HTTP/1.0 200 OK\r\n\r\nuntil close")
        self.assertEqual(r.body, b"until close")

    def test_head_and_304_have_no_body(self):
        r, rest = self.exchange(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
                                b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
                                method="HEAD")
        self.assertEqual(r.body, b"")
        self.assertEqual(rest[0].status, 304)
        self.assertEqual(rest[0].body, b"")

    def test_pipelined_split(self):
        r, rest = self.exchange(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
                                b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nbc"
                                b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        self.assertEqual([r.body] + [x.body for x in rest], [b"a", b"bc", b""])
        self.assertEqual(rest[0].status, 404)

    def test_closed_by_peer(self):
        srv = ScriptedServer(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", close=False)
        with h.Conn(srv.port) as c:
            c.send(b"GET / HTTP/1.1\r\n\r\n")
            c.read_response()
            self.assertFalse(c.closed_by_peer(0.3))
            self.assertTrue(c.closed_by_peer(3))

    def test_raw_exchange_on_immediate_close(self):
        srv = ScriptedServer(b"")
        resp, closed = h.raw_exchange(srv.port, b"GET / HTTP/1.1\r\n\r\n")
        self.assertIsNone(resp)
        self.assertTrue(closed)

    def test_log_watch(self):
        import tempfile
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write("old line\n")
        try:
            w = h.LogWatch(f.name)
            with open(f.name, "a") as g:
                g.write("new line\n")
            self.assertEqual(w.new_text(f.name), "new line\n")
            self.assertEqual(w.wait_lines(f.name, 1), "new line\n")
        finally:
            os.unlink(f.name)


class Proc(unittest.TestCase):

    def test_children_cmdline_status_fds(self):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)",
                                  "--role=worker", "--pool=3"])
        try:
            kids = h.wait_for(lambda: child.pid in h.children(os.getpid()), timeout=5)
            self.assertTrue(kids)
            self.assertEqual(h.role_of(child.pid), ("worker", 3))
            st = h.status(child.pid)
            self.assertEqual(st["Uid"], "0 0 0 0")
            self.assertIn(st["Seccomp"], ("0", "2"))
            self.assertIn(0, h.fds(child.pid))
            self.assertEqual(h.proc_root(child.pid), "/")
            self.assertFalse(h.non_dumpable(child.pid) and st["Uid"] != "0 0 0 0")
            self.assertIn(child.pid, h.descendants(os.getpid()))
        finally:
            child.kill()
            child.wait()
        self.assertFalse(h.alive(child.pid))

    def test_non_dumpable_detection(self):
        # A process that drops to an unprivileged uid and sets PR_SET_DUMPABLE 0.
        code = ("import ctypes, os, time\n"
                "libc = ctypes.CDLL(None, use_errno=True)\n"
                "os.setgid(61990); os.setuid(61990)\n"
                "libc.prctl(4, 0, 0, 0, 0)\n"
                "print('ok', flush=True); time.sleep(30)\n")
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
        self.addCleanup(child.stdout.close)
        try:
            self.assertEqual(child.stdout.readline().strip(), b"ok")
            self.assertEqual(h.uid_of(child.pid), 61990)
            self.assertTrue(h.non_dumpable(child.pid))
        finally:
            child.kill()
            child.wait()

    def test_free_port(self):
        p = h.free_port()
        self.assertTrue(h.port_is_free(p))
        with socket.socket() as s:
            s.bind(("127.0.0.1", p))
            s.listen(1)
            self.assertFalse(h.port_is_free(p))


class Tree(unittest.TestCase):

    def test_tenant_tree(self):
        srv = h.Server(config=lambda s: "unused\n")
        try:
            self.assertEqual(stat.S_IMODE(os.stat(srv.root).st_mode), 0o755)
            for t in (srv.alice, srv.bob):
                st = os.stat(t.home)
                self.assertEqual((st.st_uid, st.st_gid), (t.uid, t.uid))
                self.assertEqual(stat.S_IMODE(st.st_mode), 0o750)
                self.assertEqual(os.stat(os.path.join(t.www, "1k.bin")).st_size, 1024)
                self.assertEqual(os.stat(os.path.join(t.www, "100k.bin")).st_size, 102400)
                self.assertEqual(os.stat(os.path.join(t.www, "index.html")).st_uid, t.uid)
            self.assertEqual(os.listdir(srv.chroot), [])
            self.assertEqual(os.stat(srv.chroot).st_uid, 0)
            text = h.standard_config(srv)
            self.assertIn(f"AssignUserID #{h.ALICE_UID} #{h.ALICE_UID}", text)
            self.assertLess(text.index("alice.test"), text.index("bob.test"))
            # bob's home is closed to alice's uid (checked as alice, in a child)
            code = (f"import os; os.setgid({h.ALICE_UID}); os.setuid({h.ALICE_UID})\n"
                    f"try:\n open({srv.bob.www!r} + '/secret.txt').read(); print('read')\n"
                    f"except PermissionError: print('denied')\n")
            out = subprocess.run([sys.executable, "-c", code], capture_output=True).stdout
            self.assertEqual(out.strip(), b"denied")
        finally:
            srv.cleanup()
        self.assertFalse(os.path.exists(srv.root))

    def test_stop_kills_only_seen_children(self):
        # Server.stop on a fake master: a shell that ignores nothing and has one child.
        srv = h.Server(config=lambda s: "unused\n", ready=False)
        fake = os.path.join(srv.root, "fake-itkd")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\nsleep 60 &\nwait\n")
        os.chmod(fake, 0o755)
        os.environ["ITKD_BINARY"], old = fake, os.environ.get("ITKD_BINARY")
        try:
            srv.start()
            kids = h.wait_for(lambda: srv.refresh_children(), timeout=5)
            srv.stop()
            self.assertIsNotNone(srv.proc.returncode)
            for k in kids:
                self.assertFalse(h.alive(k), f"leftover child {k}")
        finally:
            if old is None:
                del os.environ["ITKD_BINARY"]
            else:
                os.environ["ITKD_BINARY"] = old
            srv.cleanup()


if __name__ == "__main__":
    h.main()
