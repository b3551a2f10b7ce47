#!/usr/bin/env python3
"""Invariants 2-4 under attack: symlinks, foreign files, cross-vhost requests, limits."""

import os
import re
import signal
import time
import unittest

import itkd_harness as h


def setup(srv):
    a, b = srv.alice, srv.bob
    own = a.home_write("private/own.txt", h.ALICE_PRIVATE)
    for d in ("follow", "ifowner", "nolinks"):
        a.mkdir(d)
        link = os.path.join(a.www, d, "bob.txt")
        os.symlink(os.path.join(b.www, "secret.txt"), link)
        os.lchown(link, a.uid, a.uid)
        link = os.path.join(a.www, d, "own.txt")
        os.symlink(own, link)
        os.lchown(link, a.uid, a.uid)
    # A symlink to bob's file that bob planted... no: alice can't write there. A link
    # owned by alice to a world-readable file of bob's in a directory alice can't enter.
    b.write("public.txt", b"BOB-SECRET public file, still behind bob's 0750 home\n", mode=0o644)
    link = os.path.join(a.www, "follow", "bobpublic.txt")
    os.symlink(os.path.join(b.www, "public.txt"), link)
    os.lchown(link, a.uid, a.uid)
    # A file in alice's docroot that belongs to bob, mode 0600.
    a.write("bobs-file.txt", h.BOB_SECRET, mode=0o600, uid=b.uid)
    # A file alice owns but made unreadable to herself still can't be read through root.
    a.write("unreadable.txt", b"BOB-SECRET unreadable\n", mode=0o000)


def config(srv):
    a = srv.alice
    alice_extra = (f"  <Directory {a.www}/follow>\n    Options FollowSymLinks\n  </Directory>\n"
                   f"  <Directory {a.www}/ifowner>\n    Options SymLinksIfOwnerMatch\n  </Directory>\n"
                   f"  <Directory {a.www}/nolinks>\n    Options None\n  </Directory>\n")
    # MaxClientsVHost on a vhost of its own, so its counters can't disturb other tests.
    limited = h.vhost_block(f"*:{srv.port}", LIMITED, a, extra="  MaxClientsVHost 2\n",
                            log_format="withpid")
    return h.standard_config(srv, alice_extra=alice_extra, log_format="withpid") + limited


LIMITED = "limited.test"


def pids_in_log(text, path_fragment):
    return {int(m.group(1)) for line in text.splitlines() if path_fragment in line
            for m in [re.search(r" pid=(\d+)$", line)] if m}


class Isolation(h.ServerTestCase):
    config = config
    setup_tree = setup

    def assertNoSecret(self, resp):
        self.assertNotIn(b"BOB-SECRET", resp.body)

    def test_symlink_to_bob_with_follow(self):
        r = self.get("/follow/bob.txt")
        self.assertNoSecret(r)
        self.assertStatus(r, 403)

    def test_symlink_to_bob_public_file(self):
        r = self.get("/follow/bobpublic.txt")
        self.assertNoSecret(r)
        self.assertStatus(r, 403)

    def test_symlink_to_bob_if_owner_match(self):
        r = self.get("/ifowner/bob.txt")
        self.assertNoSecret(r)
        self.assertStatus(r, 403)

    def test_symlink_to_bob_without_options(self):
        r = self.get("/nolinks/bob.txt")
        self.assertNoSecret(r)
        self.assertStatus(r, 403)

    def test_symlink_to_own_file_with_follow(self):
        r = self.get("/follow/own.txt")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, h.ALICE_PRIVATE)

    def test_symlink_to_own_file_if_owner_match(self):
        r = self.get("/ifowner/own.txt")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, h.ALICE_PRIVATE)

    def test_symlink_to_own_file_without_options(self):
        self.assertStatus(self.get("/nolinks/own.txt"), 403)

    def test_foreign_file_0600_is_403(self):
        r = self.get("/bobs-file.txt")
        self.assertNoSecret(r)
        self.assertStatus(r, 403)

    def test_mode_000_is_403(self):
        r = self.get("/unreadable.txt")
        self.assertNoSecret(r)
        self.assertStatus(r, 403)

    def test_bob_reads_his_own_secret(self):
        r = self.get("/secret.txt", host="bob.test")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, h.BOB_SECRET)

    def test_absolute_form_goes_to_bobs_worker(self):
        a, b = self.srv.alice, self.srv.bob
        h.get(self.port, "/", host="alice.test")  # alice's pool is up
        watch = h.LogWatch(a.access_log, b.access_log)
        marker = "/index.html?absolute-form-check"
        with h.Conn(self.port) as c:
            r1 = c.request("GET", "/index.html?alice-first", host="alice.test")
            self.assertEqual(r1.body, h.ALICE_INDEX)
            r = c.request("GET", f"http://bob.test{marker}", host="alice.test",
                          headers=[("Connection", "close")])
        self.assertStatus(r, 200)
        self.assertEqual(r.body, h.BOB_INDEX)
        bob_text = watch.wait_lines(b.access_log, 1)
        self.assertIn(marker, bob_text)
        self.assertNotIn(marker, watch.new_text(a.access_log))
        pids = pids_in_log(bob_text, marker)
        self.assertEqual(len(pids), 1, f"bob's log line must carry the worker pid: {bob_text!r}")
        pid = pids.pop()
        self.assertEqual(h.uid_of(pid), h.BOB_UID, f"pid {pid} served bob's request")
        self.assertIn(pid, self.srv.workers())
        alice_pids = pids_in_log(watch.new_text(a.access_log), "alice-first")
        self.assertTrue(alice_pids)
        for p in alice_pids:
            self.assertEqual(h.uid_of(p), h.ALICE_UID)

    def test_tenant_process_cannot_reach_other_processes(self):
        # What a CGI script of alice's could try: signal bob's worker, the front, the
        # master; read its own worker's memory (non-dumpable: refused even to the same uid).
        h.get(self.port, "/", host="alice.test")
        h.get(self.port, "/", host="bob.test")
        alice_w = self.srv.wait_worker(h.ALICE_UID)[0]
        bob_w = self.srv.wait_worker(h.BOB_UID)[0]
        front = self.srv.fronts()[0]
        code = (
            "import os, sys, errno\n"
            f"os.setgroups([]); os.setgid({h.ALICE_UID}); os.setuid({h.ALICE_UID})\n"
            "out = []\n"
            f"for name, pid in (('bob', {bob_w}), ('front', {front}), ('master', {self.srv.pid})):\n"
            "    try:\n"
            "        os.kill(pid, 0); out.append(name + ':signalled')\n"
            "    except PermissionError:\n"
            "        out.append(name + ':EPERM')\n"
            f"for path in ('/proc/{alice_w}/mem', '/proc/{alice_w}/environ', '/proc/{bob_w}/environ'):\n"
            "    try:\n"
            "        open(path, 'rb').read(1); out.append(path + ':read')\n"
            "    except PermissionError:\n"
            "        out.append(path + ':EACCES')\n"
            "    except OSError as e:\n"
            "        out.append(path + ':' + errno.errorcode.get(e.errno, str(e.errno)))\n"
            "print(' '.join(out))\n")
        import subprocess, sys
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr)
        words = p.stdout.split()
        for w in words:
            self.assertFalse(w.endswith(":signalled") or w.endswith(":read"), p.stdout)
        self.assertEqual(len(words), 6, p.stdout)

    def test_max_clients_vhost_across_fronts(self):
        # Hold alice's two connections through one front (the others are SIGSTOPped so
        # they can't accept), then send the third through another front.
        fronts = self.srv.fronts()
        if len(fronts) < 2:
            self.skipTest("needs FrontProcesses >= 2")
        held = []
        # Earlier tests' connections are released by the front that accepted them, when
        # their worker's report arrives (microseconds after the client saw the close); a
        # front stopped before reading it would keep the slot. Let the reports land first.
        time.sleep(0.3)
        try:
            for f in fronts[1:]:
                os.kill(f, signal.SIGSTOP)
            for _ in range(2):
                c = h.Conn(self.port)
                held.append(c)
                self.assertStatus(c.request("GET", "/", host=LIMITED), 200)
            os.kill(fronts[0], signal.SIGSTOP)
            os.kill(fronts[1], signal.SIGCONT)
            third = h.get(self.port, "/", host=LIMITED)
            self.assertStatus(third, 503, "third connection to limited.test, through another front")
        finally:
            for f in fronts:
                os.kill(f, signal.SIGCONT)
            for c in held:
                c.close()
        h.wait_for(lambda: h.get(self.port, "/", host=LIMITED).status == 200,
                   timeout=5, what="limited.test answering after the connections closed")

    def test_max_clients_vhost(self):
        held = []
        try:
            for _ in range(2):
                c = h.Conn(self.port)
                held.append(c)
                self.assertStatus(c.request("GET", "/", host=LIMITED), 200)
            watch = h.LogWatch(self.srv.error_log, self.srv.alice.error_log)
            # The limit is per vhost across the whole server (Apache counts it on the
            # scoreboard), whichever front accepts: try the third connection several times.
            statuses = [h.get(self.port, "/", host=LIMITED).status for _ in range(6)]
            self.assertEqual(statuses, [503] * 6, "third concurrent connection to limited.test")
            h.wait_for(lambda: watch.all_new().strip(), timeout=3, what="503 log line")
            bob = h.get(self.port, "/", host="bob.test")
            self.assertStatus(bob, 200, "bob must not be limited by limited.test's MaxClientsVHost")
        finally:
            for c in held:
                c.close()
        # Once the held connections are gone, alice answers again.
        h.wait_for(lambda: h.get(self.port, "/", host=LIMITED).status == 200,
                   timeout=5, what="limited.test answering after the connections closed")


if __name__ == "__main__":
    h.main()
