#!/usr/bin/env python3
"""One keep-alive connection that moves between owners: alice -> bob -> alice. The worker
hands the socket back to the front, which routes it to the other owner's pool."""

import os
import re
import signal
import unittest

import itkd_harness as h


def config(srv):
    return h.standard_config(srv, log_format="withpid")


def log_pid(text, marker):
    for line in text.splitlines():
        if marker in line:
            m = re.search(r" pid=(\d+)$", line)
            return int(m.group(1)) if m else None
    return None


class KeepAliveSwitch(h.ServerTestCase):
    config = config

    def test_alice_bob_alice_on_one_socket(self):
        a, b = self.srv.alice, self.srv.bob
        watch = h.LogWatch(a.access_log, b.access_log)
        with h.Conn(self.port) as c:
            r1 = c.request("GET", "/index.html?step=1", host="alice.test")
            r2 = c.request("GET", "/index.html?step=2", host="bob.test")
            r3 = c.request("GET", "/1k.bin?step=3", host="alice.test")
            r4 = c.request("GET", "/100k.bin?step=4", host="bob.test")
            local = c.sock.getsockname()
        for r in (r1, r2, r3, r4):
            self.assertStatus(r, 200)
        self.assertEqual(r1.body, h.ALICE_INDEX)
        self.assertEqual(r2.body, h.BOB_INDEX)
        self.assertEqual(r3.body, a.small)
        self.assertEqual(r4.body, b.medium)
        for r in (r1, r2, r3):
            self.assertNotEqual((r.header("connection") or "").lower(), "close")

        alice_log = watch.wait_lines(a.access_log, 2)
        bob_log = watch.wait_lines(b.access_log, 2)
        self.assertIn("step=1", alice_log)
        self.assertIn("step=3", alice_log)
        self.assertNotIn("step=2", alice_log)
        self.assertIn("step=2", bob_log)
        self.assertIn("step=4", bob_log)
        self.assertNotIn("step=1", bob_log)

        bob_pid = log_pid(bob_log, "step=2")
        self.assertIsNotNone(bob_pid, f"no pid in bob's log line: {bob_log!r}")
        st = h.status(bob_pid)
        self.assertEqual(st["Uid"], f"{h.BOB_UID} {h.BOB_UID} {h.BOB_UID} {h.BOB_UID}")
        self.assertEqual(h.role_of(bob_pid)[0], "worker")
        alice_pid = log_pid(alice_log, "step=1")
        self.assertEqual(h.uid_of(alice_pid), h.ALICE_UID)

    def test_pipelined_switch(self):
        # Both requests arrive in one segment: the bytes of the second one must travel
        # with the socket to bob's pool.
        with h.Conn(self.port) as c:
            c.send(b"GET / HTTP/1.1\r\nHost: alice.test\r\n\r\n"
                   b"GET / HTTP/1.1\r\nHost: bob.test\r\n\r\n"
                   b"GET /secret.txt HTTP/1.1\r\nHost: bob.test\r\n\r\n"
                   b"GET / HTTP/1.1\r\nHost: alice.test\r\nConnection: close\r\n\r\n")
            self.assertEqual(c.read_response().body, h.ALICE_INDEX)
            self.assertEqual(c.read_response().body, h.BOB_INDEX)
            self.assertEqual(c.read_response().body, h.BOB_SECRET)
            self.assertEqual(c.read_response().body, h.ALICE_INDEX)
            self.assertTrue(c.closed_by_peer())

    def test_many_switches(self):
        with h.Conn(self.port) as c:
            for i in range(20):
                host, body = (("alice.test", h.ALICE_INDEX) if i % 2 == 0
                              else ("bob.test", h.BOB_INDEX))
                r = c.request("GET", "/", host=host)
                self.assertEqual(r.body, body, f"request {i} to {host}")

    def test_switch_after_refusal_on_other_vhost_is_isolated(self):
        # bob's 404 on the same connection doesn't leak into alice's next answer.
        with h.Conn(self.port) as c:
            self.assertStatus(c.request("GET", "/nope", host="bob.test"), 404)
            r = c.request("GET", "/", host="alice.test")
            self.assertEqual(r.body, h.ALICE_INDEX)

    def test_many_connections_switch_in_one_turn(self):
        # alice's workers find all these next requests (for bob) in one turn and give the
        # sockets back together, several to a message, the i-th socket with the i-th
        # request's bytes: a mix-up would answer a client with another client's file.
        a, b = self.srv.alice, self.srv.bob
        n = 40
        for i in range(n):
            b.write(f"switch/{i}.txt", f"bob file {i}\n".encode())
        conns = []
        try:
            for i in range(n):
                c = h.Conn(self.port, timeout=10.0)
                conns.append(c)
                self.assertEqual(c.request("GET", "/", host="alice.test").body, h.ALICE_INDEX)
            workers = self.srv.workers_with_uid(h.ALICE_UID)
            self.assertTrue(workers)
            for pid in workers:
                os.kill(pid, signal.SIGSTOP)
            try:
                for i, c in enumerate(conns):
                    c.send(f"GET /switch/{i}.txt HTTP/1.1\r\nHost: bob.test\r\n\r\n".encode())
            finally:
                for pid in workers:
                    os.kill(pid, signal.SIGCONT)
            for i, c in enumerate(conns):
                r = c.read_response()
                self.assertEqual((r.status, r.body), (200, f"bob file {i}\n".encode()), f"connection {i}")
            # And back to alice on every one of them.
            for i, c in enumerate(conns):
                self.assertEqual(c.request("GET", "/", host="alice.test").body, h.ALICE_INDEX, f"connection {i}")
        finally:
            for c in conns:
                c.close()


if __name__ == "__main__":
    h.main()
