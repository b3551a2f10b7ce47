#!/usr/bin/env python3
"""Invariants 1, 2, 4, 5: who runs as whom, with what privileges, seeing which files."""

import os
import re
import unittest

import itkd_harness as h

SECRET_ENV = "ITKD_TEST_SECRET"


class Identities(h.ServerTestCase):
    server_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", SECRET_ENV: "xyz"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Workers start on demand: none may exist before the first request.
        cls.workers_before_requests = cls.srv.workers()
        cls.alice_resp = h.get(cls.srv.port, "/", host="alice.test")
        cls.alice_pools = set(cls.srv.workers().values())
        cls.bob_resp = h.get(cls.srv.port, "/", host="bob.test")
        cls.all_pools = set(cls.srv.workers().values())

    # ---- master and fronts
    def test_master_is_root(self):
        self.assertEqual(h.status(self.srv.pid)["Uid"].split()[0], "0")

    def test_fronts_exist(self):
        fronts = self.srv.fronts()
        self.assertEqual(len(fronts), 2, f"FrontProcesses 2, children: "
                         f"{[(p, h.cmdline(p)) for p in self.srv.refresh_children()]}")

    def test_front_identity_and_privileges(self):
        self.assertTrue(self.srv.fronts())
        for pid in self.srv.fronts():
            with self.subTest(front=pid):
                st = h.status(pid)
                self.assertEqual(st["Uid"], " ".join([str(h.FRONT_UID)] * 4))
                self.assertEqual(st["Gid"], " ".join([str(h.FRONT_UID)] * 4))
                self.assertIn(st["Groups"], ("", str(h.FRONT_UID)))
                for cap in ("CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb"):
                    self.assertEqual(int(st[cap], 16), 0, cap)
                self.assertEqual(st["NoNewPrivs"], "1")
                self.assertEqual(st["Seccomp"], "2")

    def test_fronts_run_sched_batch(self):
        # SCHED_BATCH (common/batch_scheduling.h): a front waking for a new connection
        # must not preempt a worker mid-request. The master keeps the default policy.
        self.assertTrue(self.srv.fronts())
        for pid in self.srv.fronts():
            with self.subTest(front=pid):
                self.assertEqual(os.sched_getscheduler(pid), os.SCHED_BATCH)
        self.assertEqual(os.sched_getscheduler(self.srv.pid), os.SCHED_OTHER)

    def test_front_is_chrooted_to_empty_dir(self):
        for pid in self.srv.fronts():
            with self.subTest(front=pid):
                self.assertEqual(os.path.realpath(h.proc_root(pid)),
                                 os.path.realpath(self.srv.chroot))

    def test_front_not_dumpable(self):
        for pid in self.srv.fronts():
            with self.subTest(front=pid):
                self.assertTrue(h.non_dumpable(pid), "front is dumpable (PR_SET_DUMPABLE not 0)")

    def test_front_opens_no_tenant_file(self):
        self.assertTrue(self.srv.fronts())
        for pid in self.srv.fronts():
            with self.subTest(front=pid):
                for target in h.regular_file_fds(pid):
                    self.assertFalse(target.startswith(self.srv.alice.home + "/")
                                     or target.startswith(self.srv.bob.home + "/")
                                     or target.startswith(self.srv.logs + "/alice")
                                     or target.startswith(self.srv.logs + "/bob"),
                                     f"front {pid} holds {target}")

    def test_master_holds_no_client_connection(self):
        # Invariant 1: with clients connected, the master's TCP sockets are all listeners.
        with h.Conn(self.port) as c1, h.Conn(self.port) as c2:
            self.assertStatus(c1.request("GET", "/", host="alice.test"), 200)
            c2.send(b"GET / HTTP/1.1\r\nHost: bob.test\r\n")  # half a head, in the front
            states = h.tcp_socket_states()
            master_tcp = []
            for target in h.fds(self.srv.pid).values():
                m = re.match(r"socket:\[(\d+)\]", target)
                if m and int(m.group(1)) in states:
                    master_tcp.append(states[int(m.group(1))])
            self.assertIn("0A", master_tcp, "the master should hold the listening socket")
            self.assertEqual([s for s in master_tcp if s != "0A"], [],
                             "the master holds a non-listening TCP socket")

    # ---- workers
    def test_no_worker_before_first_request(self):
        self.assertEqual(self.workers_before_requests, {}, "workers must start on demand")

    def test_responses(self):
        self.assertStatus(self.alice_resp, 200)
        self.assertEqual(self.alice_resp.body, h.ALICE_INDEX)
        self.assertStatus(self.bob_resp, 200)
        self.assertEqual(self.bob_resp.body, h.BOB_INDEX)
        # Same answers a second time, from the now-running workers.
        self.assertEqual(h.get(self.port, "/", host="alice.test").body, h.ALICE_INDEX)
        self.assertEqual(h.get(self.port, "/", host="bob.test").body, h.BOB_INDEX)

    def _pool_workers(self, pools):
        return [p for p, pool in self.srv.workers().items() if pool in pools]

    def _check_worker(self, pid, uid):
        st = h.status(pid)
        self.assertEqual(st["Uid"], " ".join([str(uid)] * 4), f"worker {pid} Uid")
        self.assertEqual(st["Gid"], " ".join([str(uid)] * 4), f"worker {pid} Gid")
        self.assertEqual(st["Groups"], str(uid), f"worker {pid} supplementary groups")
        for cap in ("CapEff", "CapPrm", "CapInh", "CapAmb"):
            self.assertEqual(int(st[cap], 16), 0, f"worker {pid} {cap}")
        self.assertEqual(st["NoNewPrivs"], "1", f"worker {pid}")
        self.assertEqual(st["Seccomp"], "2", f"worker {pid}")
        self.assertTrue(h.non_dumpable(pid), f"worker {pid} is dumpable")
        self.assertEqual(os.sched_getscheduler(pid), os.SCHED_BATCH, f"worker {pid} policy")

    def test_alice_pool_runs_as_alice(self):
        self.assertEqual(len(self.alice_pools), 1,
                         f"after one request to alice, exactly one pool has workers: "
                         f"{self.alice_pools}")
        pids = self._pool_workers(self.alice_pools)
        self.assertTrue(pids, "alice's worker is gone")
        for pid in pids:
            self._check_worker(pid, h.ALICE_UID)

    def test_bob_pool_runs_as_bob(self):
        bob_pools = self.all_pools - self.alice_pools
        self.assertEqual(len(bob_pools), 1, f"bob's request started one more pool: "
                         f"{self.alice_pools} -> {self.all_pools}")
        pids = self._pool_workers(bob_pools)
        self.assertTrue(pids, "bob's worker is gone")
        for pid in pids:
            self._check_worker(pid, h.BOB_UID)

    def test_workers_hold_no_other_tenant_log(self):
        a, b = self.srv.alice, self.srv.bob
        self.assertTrue(self.srv.workers_with_uid(h.ALICE_UID))
        self.assertTrue(self.srv.workers_with_uid(h.BOB_UID))
        for pid in self.srv.workers_with_uid(h.ALICE_UID):
            targets = h.fds(pid).values()
            self.assertNotIn(b.access_log, targets)
            self.assertNotIn(b.error_log, targets)
        for pid in self.srv.workers_with_uid(h.BOB_UID):
            targets = h.fds(pid).values()
            self.assertNotIn(a.access_log, targets)
            self.assertNotIn(a.error_log, targets)

    def test_workers_hold_no_other_tenant_file(self):
        for uid, other in ((h.ALICE_UID, self.srv.bob), (h.BOB_UID, self.srv.alice)):
            for pid in self.srv.workers_with_uid(uid):
                for target in h.fds(pid).values():
                    self.assertFalse(target.startswith(other.home + "/"),
                                     f"worker {pid} (uid {uid}) holds {target}")

    def test_every_worker_is_a_known_tenant(self):
        # Invariant 5: only configured identities exist; nothing runs as root but the master
        # and its zygote (see test_zygote_is_off_the_network).
        allowed = {h.ALICE_UID, h.BOB_UID, h.MAIN_UID, h.FRONT_UID}
        zygotes = self.srv.zygotes()
        for pid in h.descendants(self.srv.pid):
            with self.subTest(pid=pid, argv=h.cmdline(pid)):
                if pid in zygotes:
                    self.assertEqual(h.uid_of(pid), 0)
                else:
                    self.assertIn(h.uid_of(pid), allowed)

    def test_workers_are_forked_by_the_zygote_as_the_masters_children(self):
        # The zygote forks workers with CLONE_PARENT: the master reaps them and checks
        # their messages as it does for any child.
        zygotes = self.srv.zygotes()
        self.assertEqual(len(zygotes), 1, [(p, h.cmdline(p)) for p in self.srv.refresh_children()])
        workers = self.srv.workers()
        self.assertTrue(workers)
        for pid in workers:
            with self.subTest(worker=pid):
                self.assertEqual(int(h.status(pid)["PPid"]), self.srv.pid)
                self.assertEqual(h.children(pid), [], "a static worker has no children")
        self.assertEqual(h.children(zygotes[0]), [], "the zygote keeps no child of its own")

    def test_zygote_is_off_the_network(self):
        # Invariant 1: the one root process besides the master holds no TCP socket, no
        # tenant file and nothing but its fixed fds: /dev/null, the snapshot, its channel
        # to the master, the logs; no_new_privs is set and its environment is clean.
        (zygote,) = self.srv.zygotes()
        with h.Conn(self.srv.port) as c:
            self.assertStatus(c.request("GET", "/", host="alice.test"), 200)
            states = h.tcp_socket_states()
            sockets = []
            for fd, target in sorted(h.fds(zygote).items()):
                if fd <= 2:
                    self.assertEqual(target, "/dev/null")
                elif fd == 3:
                    self.assertTrue(target.startswith("/memfd:itkd-config"), target)
                elif target.startswith("socket:"):
                    inode = int(re.match(r"socket:\[(\d+)\]", target).group(1))
                    self.assertNotIn(inode, states, f"zygote holds a TCP socket at fd {fd}")
                    sockets.append(fd)
                else:
                    self.assertTrue(target.startswith(self.srv.logs + "/"), f"fd {fd} -> {target}")
            self.assertEqual(sockets, [4], "one socket: the channel to the master")
        self.assertEqual(h.status(zygote)["NoNewPrivs"], "1")
        self.assertEqual([e for e in h.environ(zygote) if SECRET_ENV in e], [])
        self.assertEqual(int(h.status(zygote)["PPid"]), self.srv.pid)

    def test_children_have_clean_environment(self):
        self.assertIn(f"{SECRET_ENV}=xyz", h.environ(self.srv.pid), "test setup: marker missing")
        kids = h.descendants(self.srv.pid)
        self.assertTrue(kids)
        for pid in kids:
            with self.subTest(pid=pid, argv=h.cmdline(pid)):
                env = h.environ(pid)
                self.assertFalse([e for e in env if "xyz" in e or SECRET_ENV in e], env)

    def test_every_child_fd_is_close_on_exec(self):
        # Scripts a worker runs must see only 0, 1, 2: every other fd has O_CLOEXEC.
        O_CLOEXEC = 0o2000000
        offenders = []
        for pid in h.descendants(self.srv.pid):
            for fd, target in sorted(h.fds(pid).items()):
                if fd <= 2:
                    continue
                try:
                    with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                        flags = int(f.read().split("flags:")[1].split()[0], 8)
                except (OSError, IndexError):
                    continue  # closed meanwhile
                if not flags & O_CLOEXEC:
                    offenders.append(f"{h.role_of(pid)[0]} {pid} fd {fd} -> {target}")
        self.assertFalse(offenders, "fds without O_CLOEXEC (an exec'd script would inherit "
                         "them):\n  " + "\n  ".join(offenders))

    def test_children_are_execed_from_the_binary(self):
        # fork+exec, not a bare fork: /proc/PID/exe is the itkd binary.
        exe = os.path.realpath(h.binary())
        for pid in self.srv.refresh_children():
            with self.subTest(pid=pid):
                self.assertEqual(os.path.realpath(os.readlink(f"/proc/{pid}/exe")), exe)


def suexec_config(srv):
    """bob's vhost names its owner the suEXEC way, as a migrated config does."""
    text = h.standard_config(srv)
    line = f"  AssignUserID #{srv.bob.uid} #{srv.bob.uid}\n"
    assert line in text
    return text.replace(line, f"  <IfModule mod_suexec.c>\n    SuexecUserGroup #{srv.bob.uid} #{srv.bob.uid}\n"
                              f"  </IfModule>\n")


class SuexecUserGroup(h.ServerTestCase):
    config = suexec_config

    def test_vhost_runs_as_the_suexec_owner(self):
        r = h.get(self.port, "/", host="bob.test")
        self.assertEqual(r.body, h.BOB_INDEX)
        pids = self.srv.workers_with_uid(h.BOB_UID)
        self.assertTrue(pids, f"no worker runs as bob: {self.srv.describe()}")
        for pid in pids:
            st = h.status(pid)
            self.assertEqual(st["Uid"].split(), [str(h.BOB_UID)] * 4)
            self.assertEqual(st["Gid"].split(), [str(h.BOB_UID)] * 4)
            self.assertEqual(int(st["CapEff"], 16), 0)


if __name__ == "__main__":
    h.main()
