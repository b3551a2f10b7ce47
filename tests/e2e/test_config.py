#!/usr/bin/env python3
"""Configuration: `itkd -t`, errors as file:line, Include globs, <IfDefine>, runtime
problems in one vhost, and reload with SIGHUP."""

import os
import re
import shutil
import signal
import time
import tempfile
import unittest

import itkd_harness as h


class ConfigCheck(unittest.TestCase):
    """`itkd -t -f CONF` on configurations written to a temporary tree (no server)."""

    @classmethod
    def setUpClass(cls):
        # A Server object gives the tree and tenants; it is never started.
        cls.srv = h.Server()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def base(self):
        return h.standard_config(self.srv)

    def check(self, text, name="test.conf", args=()):
        path = os.path.join(self.srv.conf_dir, name)
        with open(path, "w") as f:
            f.write(text)
        rc, out, err = h.run_itkd(list(args) + ["-t", "-f", path])
        return path, rc, out, err

    def line_of(self, text, needle):
        for i, line in enumerate(text.splitlines(), 1):
            if needle in line:
                return i
        raise AssertionError(f"{needle!r} not in config")

    def assertRefused(self, text, needle, name="test.conf", reason_re=None):
        path, rc, out, err = self.check(text, name)
        self.assertEqual(rc, 1, f"exit status; stderr: {err!r}")
        where = f"{path}:{self.line_of(text, needle)}:"
        self.assertIn(where, err, f"expected {where!r} in stderr")
        if reason_re:
            line = [l for l in err.splitlines() if where in l][0]
            self.assertRegex(line, reason_re)
        return err

    def test_version(self):
        rc, out, err = h.run_itkd(["-v"])
        self.assertEqual(rc, 0, err)
        self.assertRegex(out + err, r"\d+\.\d+")

    def test_good_config(self):
        path, rc, out, err = self.check(self.base())
        self.assertEqual(rc, 0, f"stderr: {err!r}")
        for needle in ("alice.test", "bob.test", str(h.ALICE_UID), str(h.BOB_UID)):
            self.assertIn(needle, out)

    def test_good_config_does_not_start_anything(self):
        path, rc, out, err = self.check(self.base())
        self.assertEqual(rc, 0)
        self.assertTrue(h.port_is_free(self.srv.port))
        self.assertFalse(os.path.exists(self.srv.pid_file))

    def test_unknown_directive(self):
        text = self.base() + "\n\nFrobnicate on\n"
        self.assertRefused(text, "Frobnicate", reason_re=r"(?i)frobnicate")

    def test_unknown_directive_inside_vhost(self):
        text = self.base().replace("  ServerName bob.test\n",
                                   "  ServerName bob.test\n  NoSuchThing 1\n")
        self.assertRefused(text, "NoSuchThing")

    def test_directive_in_wrong_context(self):
        text = self.base().replace(
            "  ServerName bob.test\n",
            f"  ServerName bob.test\n  <Directory {self.srv.bob.www}>\n"
            f"    DocumentRoot /srv/wrong-context\n  </Directory>\n")
        self.assertRefused(text, "DocumentRoot /srv/wrong-context")

    def test_listen_inside_vhost(self):
        text = self.base().replace("  ServerName bob.test\n",
                                   "  ServerName bob.test\n  Listen 127.0.0.1:1\n")
        self.assertRefused(text, "Listen 127.0.0.1:1")

    def test_unclosed_section(self):
        text = self.base() + f"<Directory {self.srv.alice.www}>\n  Options None\n"
        path, rc, out, err = self.check(text)
        self.assertEqual(rc, 1)
        self.assertIn(f"{path}:", err)

    def test_assign_root_refused(self):
        for ident in ("root root", "#0 #0", "#0 #61001", "#61001 #0"):
            with self.subTest(ident=ident):
                text = self.base().replace(f"AssignUserID #{h.BOB_UID} #{h.BOB_UID}",
                                           f"AssignUserID {ident}")
                self.assertRefused(text, f"AssignUserID {ident}")

    def test_front_user_root_refused(self):
        text = self.base().replace(f"FrontUser #{h.FRONT_UID}", "FrontUser root")
        self.assertRefused(text, "FrontUser root")

    def test_front_user_equal_to_tenant_refused(self):
        text = self.base().replace(f"FrontUser #{h.FRONT_UID}", f"FrontUser #{h.ALICE_UID}")
        path, rc, out, err = self.check(text)
        self.assertEqual(rc, 1, "the front must not share a tenant's uid")
        self.assertIn(f"{path}:", err)

    def test_uid_outside_limit_range(self):
        text = ("LimitUIDRange 61000 61001\nLimitGIDRange 61000 61010\n" + self.base())
        self.assertRefused(text, f"AssignUserID #{h.BOB_UID}")

    def test_gid_outside_limit_range(self):
        text = ("LimitUIDRange 61000 61010\nLimitGIDRange 61000 61001\n" + self.base())
        self.assertRefused(text, f"AssignUserID #{h.BOB_UID}")

    def test_missing_include(self):
        missing = os.path.join(self.srv.conf_dir, "nope.conf")
        text = self.base() + f"Include {missing}\n"
        self.assertRefused(text, "Include ")

    def test_include_optional_missing_is_fine(self):
        text = self.base() + f"IncludeOptional {self.srv.conf_dir}/nothing-*.conf\n"
        path, rc, out, err = self.check(text)
        self.assertEqual(rc, 0, err)

    def test_two_errors_reported_at_once(self):
        text = self.base() + "FirstBogus 1\nServerName ok.test\nSecondBogus 2\n"
        err = self.assertRefused(text, "FirstBogus")
        path = os.path.join(self.srv.conf_dir, "test.conf")
        self.assertIn(f"{path}:{self.line_of(text, 'SecondBogus')}:", err)

    def test_error_in_included_file_names_that_file(self):
        inc = os.path.join(self.srv.conf_dir, "inc-bad.conf")
        with open(inc, "w") as f:
            f.write("# comment\n\nBogusInIncluded yes\n")
        path, rc, out, err = self.check(self.base() + f"Include {inc}\n")
        self.assertEqual(rc, 1)
        self.assertIn(f"{inc}:3:", err)

    def test_include_glob(self):
        d = os.path.join(self.srv.conf_dir, "sites")
        os.makedirs(d, exist_ok=True)
        base = self.base()
        head, _, rest = base.partition("<VirtualHost")
        vhosts = "<VirtualHost" + rest
        alice_vh, _, bob_vh = vhosts.partition("</VirtualHost>\n")
        with open(os.path.join(d, "10-alice.conf"), "w") as f:
            f.write(alice_vh + "</VirtualHost>\n")
        with open(os.path.join(d, "20-bob.conf"), "w") as f:
            f.write(bob_vh)
        with open(os.path.join(d, "README"), "w") as f:
            f.write("not a config file\n")
        path, rc, out, err = self.check(head + f"Include {d}/*.conf\n")
        self.assertEqual(rc, 0, err)
        self.assertIn("alice.test", out)
        self.assertIn("bob.test", out)
        self.assertLess(out.index("alice.test"), out.index("bob.test"), "glob order is sorted")

    def test_if_define(self):
        extra = h.vhost_block(f"*:{self.srv.port}", "defined.test", self.srv.alice)
        text = (self.base() + "<IfDefine WITH_X>\n" + extra + "</IfDefine>\n"
                "<IfDefine !WITH_X>\n" + extra.replace("defined.test", "notdefined.test")
                + "</IfDefine>\n")
        path, rc, out, err = self.check(text, args=["-D", "WITH_X"])
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"(?<!not)defined\.test")
        self.assertNotIn("notdefined.test", out)
        path, rc, out, err = self.check(text)
        self.assertEqual(rc, 0, err)
        self.assertIn("notdefined.test", out)
        self.assertNotRegex(out, r"(?<!not)defined\.test")

    def test_if_module(self):
        text = self.base() + "<IfModule mod_nonexistent_xyz.c>\n  Frobnicate on\n</IfModule>\n"
        path, rc, out, err = self.check(text)
        self.assertEqual(rc, 0, f"<IfModule> of a missing module must be skipped: {err!r}")

    def test_missing_config_file(self):
        rc, out, err = h.run_itkd(["-t", "-f", "/nonexistent/itkd.conf"])
        self.assertEqual(rc, 1)
        self.assertIn("/nonexistent/itkd.conf", err)


class StartupRefusals(unittest.TestCase):
    """The master itself (not -t) refuses a bad config or an unusable Listen."""

    def test_bad_config_refused_at_start(self):
        srv = h.Server(config=lambda s: h.standard_config(s) + "\nNotADirective x\n", ready=False)
        try:
            srv.start()
            rc = srv.proc.wait(10)
            self.assertEqual(rc, 1)
            err = h.read_text(srv.stderr_path) + h.read_text(srv.error_log)
            line = len(h.read_text(srv.conf).splitlines())
            self.assertIn(f"{srv.conf}:{line}:", err)
            self.assertFalse(srv.refresh_children())
        finally:
            srv.cleanup()

    def test_listen_port_in_use(self):
        import socket
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            srv = h.Server(config=lambda s: h.standard_config(s).replace(
                f":{s.port}", f":{port}"), ready=False)
            try:
                srv.start()
                rc = srv.proc.wait(10)
                self.assertNotEqual(rc, 0)
                err = h.read_text(srv.stderr_path) + h.read_text(srv.error_log)
                self.assertIn(str(port), err, "the message must name the address")
            finally:
                srv.cleanup()


MISSING_ROOT_HOST = "gone.test"


def missing_docroot_config(srv):
    gone = os.path.join(srv.root, "carol", "www")
    return (h.standard_config(srv)
            + f"<VirtualHost *:{srv.port}>\n  ServerName {MISSING_ROOT_HOST}\n"
              f"  DocumentRoot {gone}\n  AssignUserID #61003 #61003\n</VirtualHost>\n")


class MissingDocumentRoot(h.ServerTestCase):
    config = missing_docroot_config

    def test_other_vhosts_keep_serving(self):
        r = h.get(self.port, "/", host=MISSING_ROOT_HOST)
        self.assertIsNotNone(r)
        self.assertIn(r.status, (403, 404))
        r = h.get(self.port, "/", host="alice.test")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, h.ALICE_INDEX)
        # and again: the failing vhost doesn't break its pool or the front
        r = h.get(self.port, "/", host=MISSING_ROOT_HOST)
        self.assertIn(r.status, (403, 404))
        self.assertStatus(h.get(self.port, "/", host="bob.test"), 200)


OLD = b"mapping before reload\n"
NEW = b"mapping after reload\n"


def reload_setup(srv):
    srv.alice.home_write("old/page.txt", OLD)
    srv.alice.home_write("new/page.txt", NEW)


def reload_config(srv, target="old"):
    return h.standard_config(srv, alice_extra=f"  Alias /m/ {srv.alice.home}/{target}/\n")


class Reload(h.ServerTestCase):
    config = reload_config
    setup_tree = reload_setup

    def test_a_broken_config_keeps_old_one(self):
        self.assertEqual(h.get(self.port, "/m/page.txt").body, OLD)
        watch = h.LogWatch(self.srv.error_log)
        good = h.read_text(self.srv.conf)
        bad = good + "\nThisIsNotADirective here\n"
        line = len(bad.splitlines())
        self.srv.write_config(bad)
        try:
            os.kill(self.srv.pid, signal.SIGHUP)
            h.wait_for(lambda: f"{self.srv.conf}:{line}:" in watch.new_text(self.srv.error_log),
                       timeout=10, what="the reload error with file:line in the error log")
            self.assertIsNone(self.srv.proc.poll(), "master died on a bad reload")
            for host, body in (("alice.test", h.ALICE_INDEX), ("bob.test", h.BOB_INDEX)):
                r = h.get(self.port, "/", host=host)
                self.assertStatus(r, 200)
                self.assertEqual(r.body, body)
            self.assertEqual(h.get(self.port, "/m/page.txt").body, OLD)
        finally:
            self.srv.write_config(good)

    def test_b_good_reload_takes_effect(self):
        self.assertEqual(h.get(self.port, "/m/page.txt").body, OLD)
        self.srv.write_config(reload_config(self.srv, "new"))
        os.kill(self.srv.pid, signal.SIGHUP)
        h.wait_for(lambda: h.get(self.port, "/m/page.txt").body == NEW, timeout=10,
                   interval=0.2, what="the new Alias after SIGHUP")
        self.assertIsNone(self.srv.proc.poll())
        # Still the same master, with fronts and workers under it.
        self.assertTrue(self.srv.fronts())
        self.assertEqual(h.get(self.port, "/", host="bob.test").body, h.BOB_INDEX)


    def test_c_reload_adds_a_vhost_and_pool(self):
        carol_www = os.path.join(self.srv.root, "carol")
        os.makedirs(carol_www, exist_ok=True)
        with open(os.path.join(carol_www, "index.html"), "wb") as f:
            f.write(b"carol after reload\n")
        os.chmod(carol_www, 0o755)
        text = (reload_config(self.srv, "new")
                + f"<VirtualHost *:{self.srv.port}>\n  ServerName carol.test\n"
                  f"  DocumentRoot {carol_www}\n  AssignUserID #61003 #61003\n</VirtualHost>\n")
        self.srv.write_config(text)
        os.kill(self.srv.pid, signal.SIGHUP)
        h.wait_for(lambda: h.get(self.port, "/", host="carol.test").body == b"carol after reload\n",
                   timeout=10, interval=0.2, what="carol.test after SIGHUP")
        self.assertTrue(self.srv.wait_worker(61003))
        self.assertEqual(h.get(self.port, "/", host="alice.test").body, h.ALICE_INDEX)

    def test_d_request_accepted_before_reload_is_answered(self):
        # A client sends half its request head before the reload and the rest after it.
        # Its old front holds the socket: the old workers must still be there to serve it
        # (they are told to drain only once their fronts are gone), else it would hang.
        before = self.srv.refresh_children()
        self.srv.write_config(reload_config(self.srv, "old"))
        os.kill(self.srv.pid, signal.SIGHUP)
        h.wait_for(lambda: h.get(self.port, "/m/page.txt").body == OLD, timeout=10,
                   interval=0.2, what="the 'old' Alias after SIGHUP")
        # Only this generation's processes are left, so they accept the next client.
        h.wait_for(lambda: not any(h.alive(p) for p in before), timeout=10,
                   what="the previous generation to leave")
        with h.Conn(self.port, timeout=8.0) as c:
            # (Listeners defer accept until data arrives: send some.)
            c.send(b"GET /m/page.txt HTTP/1.1\r\n")
            self.assertEqual(h.get(self.port, "/m/page.txt").body, OLD)
            old_workers = self.srv.workers_with_uid(h.ALICE_UID)
            self.assertTrue(old_workers)
            self.srv.write_config(reload_config(self.srv, "new"))
            os.kill(self.srv.pid, signal.SIGHUP)
            h.wait_for(lambda: h.get(self.port, "/m/page.txt").body == NEW, timeout=10,
                       interval=0.2, what="the 'new' Alias after SIGHUP")
            # Give the old workers every chance to leave early (they did before the fix).
            deadline = time.monotonic() + 1.5
            while time.monotonic() < deadline and any(h.alive(p) for p in old_workers):
                time.sleep(0.05)
            c.send(b"Host: alice.test\r\n\r\n")
            r = c.read_response()
            self.assertStatus(r, 200)
            self.assertEqual(r.body, OLD, "answered by the configuration that accepted the connection")
        h.wait_for(lambda: not any(h.alive(p) for p in old_workers), timeout=10,
                   what="the old generation's workers to leave once its fronts are gone")


if __name__ == "__main__":
    h.main()
