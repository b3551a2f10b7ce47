#!/usr/bin/env python3
"""Process lifecycle: persistent workers (no fork per connection), restart after a crash,
idle timeout, clean shutdown."""

import os
import signal
import socket
import time
import unittest

import itkd_harness as h


def snapshot(srv):
    """{pid: (ppid, starttime)} of every descendant of the master."""
    out = {}
    for pid in h.descendants(srv.pid):
        st = h._stat_fields(pid)
        if st:
            out[pid] = (st[1], st[2])
    srv.refresh_children()
    return out


class Persistent(h.ServerTestCase):

    def warm_up(self):
        for _ in range(10):
            self.assertStatus(h.get(self.port, "/", host="alice.test"), 200)
            self.assertStatus(h.get(self.port, "/", host="bob.test"), 200)

    def test_a_no_process_per_connection(self):
        self.warm_up()
        before = snapshot(self.srv)
        fronts_before = sorted(self.srv.fronts())
        workers_before = self.srv.workers()
        t0 = time.monotonic()
        for i in range(300):
            host, body = ("alice.test", h.ALICE_INDEX) if i % 3 else ("bob.test", h.BOB_INDEX)
            r = h.get(self.port, "/", host=host)
            self.assertEqual(r.body, body, f"connection {i}")
        elapsed = time.monotonic() - t0
        after = snapshot(self.srv)
        self.assertEqual(after, before, "processes were created or replaced during 300 "
                         "sequential connections")
        self.assertEqual(sorted(self.srv.fronts()), fronts_before)
        self.assertEqual(self.srv.workers(), workers_before)
        self.assertLess(elapsed, 30.0)

    def test_a2_burst_of_connections_each_reaches_its_owner(self):
        # Connections that arrive together are accepted together and handed to a worker
        # several to a message, the i-th socket with the i-th request: a mix-up would
        # answer a client with another client's file, or with the other owner's.
        self.warm_up()
        n = 160
        owner = {i: (self.srv.alice if i % 3 else self.srv.bob) for i in range(n)}
        for i in range(n):
            owner[i].write(f"burst/{i}.txt", f"{owner[i].name} file {i}\n".encode())
        conns = []
        try:
            for i in range(n):
                conns.append(h.Conn(self.port, timeout=10.0))
            # With the fronts stopped, every request waits in the listener's queue, so the
            # fronts find them all ready at once, as under load.
            fronts = self.srv.fronts()
            for pid in fronts:
                os.kill(pid, signal.SIGSTOP)
            try:
                for i, c in enumerate(conns):
                    c.send(f"GET /burst/{i}.txt HTTP/1.1\r\nHost: {owner[i].name}.test\r\n"
                           "Connection: close\r\n\r\n")
            finally:
                for pid in fronts:
                    os.kill(pid, signal.SIGCONT)
            for i, c in enumerate(conns):
                r = c.read_response()
                self.assertEqual((r.status, r.body), (200, f"{owner[i].name} file {i}\n".encode()),
                                 f"connection {i}")
        finally:
            for c in conns:
                c.close()

    def test_b_worker_killed_is_replaced(self):
        self.warm_up()
        alice_workers = self.srv.workers_with_uid(h.ALICE_UID)
        bob_workers = self.srv.workers_with_uid(h.BOB_UID)
        self.assertTrue(alice_workers and bob_workers)
        # A worker dying within a second of its start looks like a crash loop to the
        # master (which then backs off): kill only workers that have been up a while.
        youngest = min(h.age_seconds(p) for p in alice_workers)
        if youngest < 1.5:
            time.sleep(1.5 - youngest)
        watch = h.LogWatch(self.srv.error_log)
        for pid in alice_workers:
            os.kill(pid, signal.SIGKILL)
        h.wait_for(lambda: not any(h.alive(p) for p in alice_workers), timeout=5,
                   what="killed workers to be reaped")
        r = h.get(self.port, "/", host="alice.test")
        self.assertStatus(r, 200, "first request after alice's worker was killed; error log: "
                          + watch.new_text(self.srv.error_log)[-1500:])
        self.assertEqual(r.body, h.ALICE_INDEX)
        new = self.srv.wait_worker(h.ALICE_UID)
        self.assertFalse(set(new) & set(alice_workers))
        self.assertEqual(self.srv.workers_with_uid(h.BOB_UID), bob_workers,
                         "bob's workers must be untouched")
        self.assertStatus(h.get(self.port, "/", host="bob.test"), 200)
        text = h.wait_for(lambda: (lambda t: t if any(str(p) in t for p in alice_workers)
                                   else None)(watch.new_text(self.srv.error_log)),
                          timeout=5, what="a log line about the killed worker's pid")
        self.assertTrue(text)

    def test_c_front_killed_is_replaced(self):
        fronts = self.srv.fronts()
        self.assertTrue(fronts)
        os.kill(fronts[0], signal.SIGKILL)
        h.wait_for(lambda: len(self.srv.fronts()) == len(fronts) and
                   fronts[0] not in self.srv.fronts(), timeout=5, what="a new front")
        workers = self.srv.workers()
        for _ in range(40):
            self.assertStatus(h.get(self.port, "/", host="alice.test"), 200)
        # The new front counts busy workers from the page each worker sent it on the new
        # channel: were every connection it handed still counted, the pool would grow at 4.
        self.assertEqual(self.srv.workers(), workers,
                         "40 sequential connections through the new front started workers")


    def test_c2_zygote_killed_workers_still_start(self):
        # Without a zygote the master execs workers itself; a new zygote comes with a
        # later worker start, after the back-off, and forks workers again.
        (zygote,) = self.srv.zygotes()
        watch = h.LogWatch(self.srv.error_log)
        os.kill(zygote, signal.SIGKILL)
        h.wait_for(lambda: not h.alive(zygote), timeout=5, what="the killed zygote to be reaped")
        h.wait_for(lambda: "zygote pid %d died" % zygote in watch.new_text(self.srv.error_log),
                   timeout=5, what="a log line about the dead zygote")
        for pid in self.srv.workers_with_uid(h.ALICE_UID):
            os.kill(pid, signal.SIGTERM)
        h.wait_for(lambda: not self.srv.workers_with_uid(h.ALICE_UID), timeout=10,
                   what="alice's workers to leave")
        self.assertStatus(h.get(self.port, "/", host="alice.test"), 200)
        (execd,) = self.srv.workers_with_uid(h.ALICE_UID)
        self.assertEqual(int(h.status(execd)["PPid"]), self.srv.pid)
        self.assertFalse(self.forked(execd), "no zygote, yet the worker was forked")
        self.assertEqual(self.srv.zygotes(), [], "a new zygote came before the back-off ended")
        time.sleep(5.2)  # the master's back-off for a dying zygote
        os.kill(execd, signal.SIGTERM)
        h.wait_for(lambda: not h.alive(execd), timeout=10, what="alice's exec'd worker to leave")
        self.assertStatus(h.get(self.port, "/", host="alice.test"), 200)
        new = h.wait_for(self.srv.zygotes, timeout=5, what="a new zygote")
        self.assertNotEqual(new, [zygote])
        # The next worker is forked by the new zygote: it shares the zygote's executable
        # mapping and start-up work, and reads like an exec'd one in ps.
        for pid in self.srv.workers_with_uid(h.ALICE_UID):
            os.kill(pid, signal.SIGTERM)
        h.wait_for(lambda: not self.srv.workers_with_uid(h.ALICE_UID), timeout=10,
                   what="alice's workers to leave")
        h.wait_for(lambda: "ready" if self.zygote_ready(new[0]) else None, timeout=5,
                   what="the new zygote to finish its parse")
        self.assertStatus(h.get(self.port, "/", host="alice.test"), 200)
        (forked,) = self.srv.workers_with_uid(h.ALICE_UID)
        self.assertEqual(h.cmdline(forked)[:3], ["itkd", "--role=worker", f"--pool={self.srv.workers()[forked]}"])
        self.assertEqual(int(h.status(forked)["PPid"]), self.srv.pid)
        self.assertTrue(self.forked(forked), "the worker was not forked by the zygote")

    @staticmethod
    def forked(pid):
        # A forked worker's command line is the zygote's argument area rewritten, padded
        # with NULs; an exec'd worker's ends with exactly one.
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().endswith(b"\0\0")

    @staticmethod
    def zygote_ready(pid):
        # Parsed and waiting in poll() on its channel (its only blocking call).
        try:
            with open(f"/proc/{pid}/wchan") as f:
                return "poll" in f.read()
        except OSError:
            return False

    def test_d_sigusr1_reopens_logs(self):
        # logrotate's way: rename the files, SIGUSR1, new lines go to new files.
        a = self.srv.alice
        self.assertStatus(h.get(self.port, "/?before-rotate", host="alice.test"), 200)
        h.wait_for(lambda: "before-rotate" in h.read_text(a.access_log), timeout=5,
                   what="the line before rotation")
        rotated = a.access_log + ".1"
        os.rename(a.access_log, rotated)
        os.rename(self.srv.error_log, self.srv.error_log + ".1")
        os.kill(self.srv.pid, signal.SIGUSR1)
        h.wait_for(lambda: os.path.exists(a.access_log) and os.path.exists(self.srv.error_log),
                   timeout=10, what="log files reopened after SIGUSR1")

        def rotated_line():
            self.assertStatus(h.get(self.port, "/?after-rotate", host="alice.test"), 200)
            return "after-rotate" in h.read_text(a.access_log)
        # Reopening reaches the workers asynchronously (as with Apache's graceful restart):
        # a request racing the signal may still land in the old file; later ones must not.
        h.wait_for(rotated_line, timeout=10, interval=0.3,
                   what="an access line in the reopened log")
        self.assertTrue(os.path.getsize(rotated) > 0)


def idle_config(srv):
    return h.standard_config(srv, global_extra="PoolIdleTimeout 1\n")


class IdleTimeout(h.ServerTestCase):
    config = idle_config

    def test_idle_pool_stops_and_restarts(self):
        self.assertStatus(h.get(self.port, "/", host="alice.test"), 200)
        first = self.srv.wait_worker(h.ALICE_UID)
        h.wait_for(lambda: not self.srv.workers_with_uid(h.ALICE_UID), timeout=6,
                   what="alice's idle worker to exit after PoolIdleTimeout 1")
        # An exiting process loses its cmdline before it becomes a zombie: wait for that.
        h.wait_for(lambda: not any(h.alive(p) for p in first), timeout=3,
                   what="the idle worker to be gone")
        r = h.get(self.port, "/", host="alice.test")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, h.ALICE_INDEX)
        second = self.srv.wait_worker(h.ALICE_UID)
        self.assertFalse(set(first) & set(second))

    def test_busy_connection_is_not_cut_by_idle_timeout(self):
        # A connection in use keeps its worker; KeepAliveTimeout (5 s) > PoolIdleTimeout.
        with h.Conn(self.port) as c:
            self.assertStatus(c.request("GET", "/", host="bob.test"), 200)
            time.sleep(1.5)
            r = c.request("GET", "/", host="bob.test")
            self.assertEqual(r.body, h.BOB_INDEX)


class Shutdown(unittest.TestCase):

    def test_sigterm_stops_everything(self):
        srv = h.Server()
        try:
            srv.start()
            self.assertEqual(h.get(srv.port, "/", host="alice.test").status, 200)
            self.assertEqual(h.get(srv.port, "/", host="bob.test").status, 200)
            idle = h.Conn(srv.port)  # an idle keep-alive client must not hold shutdown up
            idle.request("GET", "/", host="alice.test")
            procs = {p: h._stat_fields(p)[2] for p in h.descendants(srv.pid)}
            srv.refresh_children()
            self.assertGreaterEqual(len(procs), 4, "fronts and two workers expected")
            t0 = time.monotonic()
            os.kill(srv.pid, signal.SIGTERM)
            rc = srv.proc.wait(10)
            self.assertLess(time.monotonic() - t0, 10)
            self.assertEqual(rc, 0, "master exit status after SIGTERM")
            h.wait_for(lambda: not any(h.alive(p) and h._stat_fields(p)[2] == st
                                       for p, st in procs.items()),
                       timeout=2, what="all children to exit with the master")
            idle.close()
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", srv.port))  # raises if still listening
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
            self.assertFalse(os.path.exists(srv.pid_file) and
                             h.read_text(srv.pid_file).strip() == str(srv.pid),
                             "PidFile should be removed on exit")
        finally:
            srv.cleanup()

    def test_pid_file(self):
        with h.Server() as srv:
            h.wait_for(lambda: h.read_text(srv.pid_file).strip(), timeout=5, what="PidFile")
            self.assertEqual(h.read_text(srv.pid_file).strip(), str(srv.pid))


if __name__ == "__main__":
    h.main()
