#!/usr/bin/env python3
"""OwnerConfinement: an owner's worker and every script it starts can touch only the
owner's paths (Landlock), even where file permissions would let them through.

Shared hosts are full of world-readable trees (0755 homes, 0644 files, a 0777 uploads
directory). Here bob's tree is exactly that, and alice's PHP, CGI and static symlinks try
to read it, list it and write into it. The same attacks run against a server with
`OwnerConfinement Off`, where they succeed: that is what the confined class is tested
against. The tree lives under /var/tmp, because /tmp is one of the shared paths every
owner may use.
"""

import ctypes
import os
import socket
import unittest
import uuid

import itkd_harness as h

BOB_WORLD = b"BOB-WORLD-READABLE 4c1e, not alice's\n"
ALICE_LIB = b"ALICE-LIB settings\n"
ALICE_NOTES = b"ALICE-NOTES not granted\n"

PHP_READ = (b'<?php $r = @file_get_contents($_GET["p"]);'
            b' echo $r === false ? "DENIED " . (error_get_last()["message"] ?? "") : "READ " . $r;')
PHP_WRITE = (b'<?php $r = @file_put_contents($_GET["p"], "planted by alice");'
             b' echo $r === false ? "DENIED " . (error_get_last()["message"] ?? "") : "WROTE";')
PHP_LIST = (b'<?php $r = @scandir($_GET["p"]);'
            b' echo $r === false ? "DENIED" : "LISTED " . implode(",", $r);')
PHP_SESSION = b'<?php session_start(); $_SESSION["n"] = ($_SESSION["n"] ?? 0) + 1; echo session_id(), " ", $_SESSION["n"];'
PHP_UPLOAD = (b'<?php $f = $_FILES["f"]; $to = __DIR__ . "/uploads/" . basename($f["name"]);'
              b' echo move_uploaded_file($f["tmp_name"], $to) ? "MOVED " . file_get_contents($to) : "NOT-MOVED";')
CGI_CAT = (b'#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\n'
           b'if cat "$QUERY_STRING" 2>&1; then echo READ-OK; else echo READ-FAILED; fi\n')
CGI_CONNECT = (b'#!/usr/bin/python3\nimport os, socket\nprint("Content-Type: text/plain\\n")\n'
               b's = socket.socket(socket.AF_UNIX)\n'
               b'try:\n    s.connect("\\0" + os.environ["QUERY_STRING"])\n    print("CONNECTED")\n'
               b'except OSError as e:\n    print("REFUSED", e.errno)\n')


def setup(srv):
    a, b = srv.alice, srv.bob
    # bob's tree as shared hosts often have it: everything readable, uploads 0777.
    os.chmod(b.home, 0o755)
    b.write("world.txt", BOB_WORLD, mode=0o644)
    os.chmod(b.mkdir("uploads"), 0o777)
    a.write("php/read.php", PHP_READ)
    a.write("php/write.php", PHP_WRITE)
    a.write("php/list.php", PHP_LIST)
    a.write("php/session.php", PHP_SESSION)
    a.write("php/upload.php", PHP_UPLOAD)
    a.mkdir("php/uploads")
    a.write("cgi/cat.cgi", CGI_CAT, mode=0o755)
    a.write("cgi/connect.cgi", CGI_CONNECT, mode=0o755)
    b.write("cgi/cat.cgi", CGI_CAT, mode=0o755)
    a.mkdir("links")
    link = os.path.join(a.www, "links", "bob.txt")
    os.symlink(os.path.join(b.www, "world.txt"), link)
    os.lchown(link, a.uid, a.uid)
    a.home_write("lib/settings.txt", ALICE_LIB)
    a.home_write("notes/notes.txt", ALICE_NOTES)
    h._mkdir(os.path.join(a.home, "sessions"), a.uid, a.uid, 0o700)


def config_with(confinement, global_extra=lambda srv: ""):
    def config(srv):
        a, b = srv.alice, srv.bob
        php = (f"  AddHandler fcgid-script .php\n"
               f"  FcgidWrapper /usr/bin/php-cgi .php\n"
               f"  FcgidMaxProcessesPerClass 2\n"
               f"  <Directory {a.www}/php>\n    Options +ExecCGI\n  </Directory>\n"
               f"  php_admin_value session.save_path {a.home}/sessions\n")
        cgi = "  AddHandler cgi-script .cgi\n  <Directory {www}/cgi>\n    Options +ExecCGI\n  </Directory>\n"
        alice_extra = (php + cgi.format(www=a.www)
                       + f"  <Directory {a.www}/links>\n    Options FollowSymLinks\n  </Directory>\n"
                       + f"  OwnerReadOnlyPaths {a.home}/lib\n")
        return h.standard_config(srv, global_extra=f"OwnerConfinement {confinement}\n" + global_extra(srv),
                                 alice_extra=alice_extra, bob_extra=cgi.format(www=b.www))
    return config


def landlock_abi():
    libc = ctypes.CDLL(None, use_errno=True)
    v = libc.syscall(444, None, 0, 1)  # landlock_create_ruleset(NULL, 0, VERSION)
    return max(v, 0)


class AbstractListener:
    """A root-owned listener on an abstract unix socket, like another tenant's daemon."""

    def __init__(self):
        self.name = "itkd-e2e-" + uuid.uuid4().hex[:12]
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind("\0" + self.name)
        self.sock.listen(8)

    def close(self):
        self.sock.close()


class ConfinementAttacks:
    """The attacks, shared by both classes; `confined` says which outcome to expect."""

    confined = True

    def php(self, script, path):
        return self.get(f"/php/{script}?p={path}")

    def test_php_reads_world_readable_file_of_other_owner(self):
        r = self.php("read.php", os.path.join(self.srv.bob.www, "world.txt"))
        self.assertStatus(r, 200)
        if self.confined:
            self.assertNotIn(b"BOB-WORLD", r.body)
            self.assertIn(b"DENIED", r.body)
            self.assertIn(b"Permission denied", r.body)
        else:
            self.assertIn(b"READ " + BOB_WORLD, r.body)

    def test_php_lists_other_owner_tree(self):
        r = self.php("list.php", self.srv.bob.www)
        self.assertStatus(r, 200)
        if self.confined:
            self.assertEqual(r.body, b"DENIED")
        else:
            self.assertIn(b"world.txt", r.body)

    def test_php_writes_into_other_owner_0777_directory(self):
        target = os.path.join(self.srv.bob.www, "uploads", "planted.php")
        r = self.php("write.php", target)
        self.assertStatus(r, 200)
        if self.confined:
            self.assertIn(b"DENIED", r.body)
            self.assertFalse(os.path.exists(target))
        else:
            self.assertEqual(r.body, b"WROTE")
            self.assertEqual(os.stat(target).st_uid, h.ALICE_UID)
            os.unlink(target)

    def test_cgi_reads_world_readable_file_of_other_owner(self):
        r = self.get("/cgi/cat.cgi?" + os.path.join(self.srv.bob.www, "world.txt"))
        self.assertStatus(r, 200)
        if self.confined:
            self.assertNotIn(b"BOB-WORLD", r.body)
            self.assertIn(b"Permission denied", r.body)
            self.assertIn(b"READ-FAILED", r.body)
        else:
            self.assertIn(BOB_WORLD + b"READ-OK", r.body)

    def test_static_symlink_into_other_owner_tree(self):
        r = self.get("/links/bob.txt")
        if self.confined:
            self.assertStatus(r, 403)
            self.assertNotIn(b"BOB-WORLD", r.body)
            h.wait_for(lambda: "outside the owner's paths (OwnerConfinement): " in h.read_text(self.srv.alice.error_log),
                       what="the reason in alice's error log")
        else:
            self.assertStatus(r, 200)
            self.assertEqual(r.body, BOB_WORLD)

    def test_cgi_connects_to_abstract_socket_outside_its_domain(self):
        if landlock_abi() < 6:
            self.skipTest("abstract unix socket scoping needs Landlock ABI 6 (Linux 6.12)")
        listener = AbstractListener()
        try:
            r = self.get("/cgi/connect.cgi?" + listener.name)
        finally:
            listener.close()
        self.assertStatus(r, 200)
        if self.confined:
            self.assertIn(b"REFUSED 1", r.body)  # EPERM
        else:
            self.assertIn(b"CONNECTED", r.body)

    def test_own_paths_still_work(self):
        # The docroot, the session directory a php_admin_value names, and an upload moved
        # from /tmp into the docroot (a rename across two granted trees).
        a = self.srv.alice
        self.assertEqual(self.get("/1k.bin").body, a.small)
        r = self.php("read.php", os.path.join(a.www, "index.html"))
        self.assertTrue(r.body.startswith(b"READ "), r.body)
        r = self.get("/php/session.php")
        self.assertStatus(r, 200)
        sid = r.body.split()[0].decode()
        self.assertTrue(os.path.exists(os.path.join(a.home, "sessions", "sess_" + sid)), r.body)
        boundary = "----itkd-confinement"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"up.txt\"\r\n"
                f"Content-Type: text/plain\r\n\r\nuploaded bytes\r\n--{boundary}--\r\n").encode()
        with h.Conn(self.port) as c:
            r = c.request("POST", "/php/upload.php", host="alice.test", body=body,
                          headers=[("Content-Type", f"multipart/form-data; boundary={boundary}"),
                                   ("Connection", "close")])
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"MOVED uploaded bytes")
        r = self.get("/cgi/cat.cgi?" + os.path.join(self.srv.bob.www, "world.txt"), host="bob.test")
        self.assertIn(BOB_WORLD + b"READ-OK", r.body)  # bob's own file, from bob's CGI


class Confined(ConfinementAttacks, h.ServerTestCase):
    config = config_with("On")
    setup_tree = setup
    tree_dir = "/var/tmp"

    def test_read_only_paths(self):
        a = self.srv.alice
        r = self.php("read.php", os.path.join(a.home, "lib", "settings.txt"))
        self.assertEqual(r.body, b"READ " + ALICE_LIB)
        # Granted read-only: alice's own 0755 directory, yet no new file in it.
        r = self.php("write.php", os.path.join(a.home, "lib", "new.php"))
        self.assertIn(b"DENIED", r.body)
        self.assertFalse(os.path.exists(os.path.join(a.home, "lib", "new.php")))
        # Her own file, but in a directory the configuration doesn't name.
        r = self.php("read.php", os.path.join(a.home, "notes", "notes.txt"))
        self.assertIn(b"DENIED", r.body)

    def test_check_lists_the_grants(self):
        rc, out, err = h.run_itkd(["-t", "-f", self.srv.conf])
        self.assertEqual(rc, 0, err)
        a = self.srv.alice
        self.assertIn(f"rw {a.www} (DocumentRoot of alice.test)", out)
        self.assertIn(f"ro {a.home}/lib (OwnerReadOnlyPaths ({self.srv.conf}:", out)
        self.assertIn(f"rw {a.home}/sessions (session.save_path of alice.test)", out)
        self.assertIn("ro /usr/bin/php-cgi (FcgidWrapper of alice.test)", out)


class NotConfined(ConfinementAttacks, h.ServerTestCase):
    config = config_with("Off")
    setup_tree = setup
    tree_dir = "/var/tmp"
    confined = False

    def test_check_says_off(self):
        rc, out, err = h.run_itkd(["-t", "-f", self.srv.conf])
        self.assertEqual(rc, 0, err)
        self.assertIn("OwnerConfinement Off", out)


CGI_PROC_TMP = (b'#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\n'
                b'if cat "/proc/$QUERY_STRING/root/tmp/marker.txt" 2>&1; then echo READ-OK; else echo READ-FAILED; fi\n')


def private_tmp_setup(srv):
    setup(srv)
    srv.bob.write("php/read.php", PHP_READ)
    srv.bob.write("cgi/proctmp.cgi", CGI_PROC_TMP, mode=0o755)


def private_tmp_config(srv):
    b = srv.bob
    php_b = (f"  AddHandler fcgid-script .php\n  FcgidWrapper /usr/bin/php-cgi .php\n"
             f"  <Directory {b.www}/php>\n    Options +ExecCGI\n  </Directory>\n")
    text = config_with("On", lambda s: f"OwnerPrivateTmp On\nOwnerTmpDirectory {s.root}/owner-tmp\n")(srv)
    return text.replace("  ServerName bob.test\n", "  ServerName bob.test\n" + php_b, 1)


class PrivateTmp(h.ServerTestCase):
    """OwnerPrivateTmp: each owner's /tmp is <OwnerTmpDirectory>/<uid>, in its own mount
    namespace; what alice leaves in /tmp, even mode 0644, bob never sees."""

    config = private_tmp_config
    setup_tree = private_tmp_setup
    tree_dir = "/var/tmp"

    def test_each_owner_has_its_own_tmp(self):
        name = f"marker-{uuid.uuid4().hex[:8]}.txt"  # never one an earlier run left in /tmp
        r = self.get(f"/php/write.php?p=/tmp/{name}")
        self.assertEqual(r.body, b"WROTE")
        own = os.path.join(self.srv.root, "owner-tmp", str(h.ALICE_UID))
        st = os.stat(own)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (h.ALICE_UID, 0o700))
        marker = os.path.join(own, name)
        self.assertEqual(os.stat(marker).st_uid, h.ALICE_UID)
        self.assertFalse(os.path.exists(f"/tmp/{name}"))
        os.chmod(marker, 0o644)  # even world-readable
        r = self.get(f"/php/read.php?p=/tmp/{name}", host="bob.test")
        self.assertIn(b"DENIED", r.body)
        self.assertIn(b"No such file", r.body)
        # alice's own later requests (other processes of hers) see it.
        self.assertEqual(self.get(f"/php/read.php?p=/tmp/{name}").body, b"READ planted by alice")

    def test_worker_mounts(self):
        self.get("/1k.bin")
        pid = self.srv.wait_worker(h.ALICE_UID)[0]
        with open(f"/proc/{pid}/mountinfo") as f:
            tmp = [l for l in f.read().splitlines() if l.split()[4] == "/tmp"]
        self.assertTrue(tmp, "no /tmp mount in alice's worker")
        self.assertIn(f"/owner-tmp/{h.ALICE_UID}", tmp[-1])
        self.assertIn("nosuid", tmp[-1].split()[5])
        self.assertIn("nodev", tmp[-1].split()[5])
        self.assertNotEqual(os.readlink(f"/proc/{pid}/ns/mnt"), os.readlink("/proc/self/ns/mnt"))

    def test_other_owner_cant_reach_it_through_proc(self):
        self.get("/php/write.php?p=/tmp/marker.txt")
        pid = self.srv.wait_worker(h.ALICE_UID)[0]
        r = self.get(f"/cgi/proctmp.cgi?{pid}", host="bob.test")
        self.assertStatus(r, 200)
        self.assertIn(b"READ-FAILED", r.body)
        self.assertNotIn(b"planted", r.body)

    def test_uploads_still_work(self):
        boundary = "----itkd-private-tmp"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"up2.txt\"\r\n"
                f"Content-Type: text/plain\r\n\r\nprivate upload\r\n--{boundary}--\r\n").encode()
        with h.Conn(self.port) as c:
            r = c.request("POST", "/php/upload.php", host="alice.test", body=body,
                          headers=[("Content-Type", f"multipart/form-data; boundary={boundary}"),
                                   ("Connection", "close")])
        self.assertEqual(r.body, b"MOVED private upload")

    def test_check_says_so(self):
        rc, out, err = h.run_itkd(["-t", "-f", self.srv.conf])
        self.assertEqual(rc, 0, err)
        self.assertIn(f"/tmp is its own: {self.srv.root}/owner-tmp/{h.ALICE_UID} (OwnerPrivateTmp)", out)


if __name__ == "__main__":
    h.main()
