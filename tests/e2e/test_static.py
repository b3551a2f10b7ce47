#!/usr/bin/env python3
"""The static handler and HTTP/1.1 connection handling, as Apache serves them."""

import base64
import os
import re
import time
import unittest

import itkd_harness as h

ONE_MIB = h.pattern_bytes(1 << 20, 99)
LIST_NAME = "a<b&c>.txt"
NOT_FOUND_PAGE = b"<html>ALICE-404-PAGE</html>\n"
ALIASED = b"served through Alias\n"


def setup(srv):
    a = srv.alice
    a.write("x", b"x\n")
    a.write("noetag/page.html", b"no etag here\n")
    a.write("style.css", b"body{}\n")
    a.write("data.json", b"{}\n")
    a.write("img.png", b"\x89PNG\r\n\x1a\n")
    a.write("file.foo", b"foo\n")
    a.write("noext", b"no extension\n")
    a.write("sub/index.html", b"sub index\n")
    a.write("list/" + LIST_NAME, b"listed\n")
    a.write("list/plain.txt", b"plain\n")
    a.write("list/.htpasswd", b"admin:$apr1$list$secret\n")
    a.write(".htpasswd", b"admin:$apr1$salt$hash-of-the-password\n")
    a.write(".htaccess", b"Require all denied\n")
    a.write("backup.sql", b"INSERT INTO users VALUES ('admin', 'hash');\n")
    a.write("noindex/file.txt", b"not listed\n")
    a.write("a b.html", b"space in name\n")
    a.write("office/plan.txt", b"office plan\n")
    a.write("staff/roster.txt", b"roster\n")
    a.write("legacy.txt", b"legacy\n")
    a.write("staging/index.html", b"staging site\n")
    a.write("stolen/x.txt", b"x\n")
    # htpasswd -B (bcrypt) and the older $apr1$ default, for the password "secret";
    # readable by its owner only.
    a.home_write("conf/staging.htpasswd",
                 b"ann:$2y$05$9XWVWzYUJ7Ax2MyezPmNK.obLISeOMK62mNbddv1sE8QEcnHWDHsm\n"
                 b"ben:$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/\n", mode=0o600)
    srv.bob.home_write("conf/bob.htpasswd", b"ann:$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/\n", mode=0o600)
    a.write("errors/404.html", NOT_FOUND_PAGE)
    a.write("1m.bin", ONE_MIB)
    a.home_write("extra/aliased.txt", ALIASED)


def config(srv):
    a = srv.alice
    alice_extra = (f"  DirectoryIndex index.html\n"
                   f"  AddType application/x-foo .foo\n"
                   f"  Alias /aliased/ {a.home}/extra/\n"
                   f"  Redirect /old http://alice.test/new\n"
                   f"  Redirect permanent /perm http://alice.test/moved\n"
                   f"  RedirectMatch 301 ^/blog/([0-9]{{4}})/(.*)\\.html$ https://news.alice.test/$1/$2\n"
                   f"  ErrorDocument 404 /errors/404.html\n"
                   f"  <Directory {a.www}>\n    Options FollowSymLinks\n"
                   f"    Require all granted\n  </Directory>\n"
                   f"  <Directory {a.www}/list>\n    Options Indexes\n  </Directory>\n"
                   f"  <Directory {a.www}/noetag>\n    FileETag None\n  </Directory>\n"
                   f"  <Directory {a.home}/extra>\n    Require all granted\n  </Directory>\n"
                   f"  <FilesMatch \"\\.(sql|bak)$\">\n    Require all denied\n  </FilesMatch>\n"
                   # Access by client address: mod_authz_host, a <Location> block list,
                   # and an Apache 2.2-era Order/Allow/Deny block (mod_access_compat).
                   f"  <Directory {a.www}/office>\n    Require ip 127.0.0.2 10.0.0.0/8\n  </Directory>\n"
                   f"  <Location /staff>\n    <RequireAll>\n      Require all granted\n"
                   f"      Require not ip 127.0.0.3\n    </RequireAll>\n  </Location>\n"
                   f"  <Files legacy.txt>\n    Order deny,allow\n    Deny from all\n"
                   f"    Allow from 127.0.0.4\n  </Files>\n"
                   # Basic authentication, as control panels protect a directory.
                   f"  <Directory {a.www}/staging>\n    AuthType Basic\n"
                   f"    AuthName \"Staging site\"\n"
                   f"    AuthUserFile {a.home}/conf/staging.htpasswd\n"
                   f"    Require valid-user\n  </Directory>\n"
                   # Another owner's password file: alice's worker can't read it.
                   f"  <Directory {a.www}/stolen>\n    AuthType Basic\n    AuthName x\n"
                   f"    AuthUserFile {srv.bob.home}/conf/bob.htpasswd\n"
                   f"    Require valid-user\n  </Directory>\n")
    return h.standard_config(srv, alice_extra=alice_extra,
                             bob_extra="  AddDefaultCharset utf-8\n")


class Static(h.ServerTestCase):
    config = config
    setup_tree = setup

    # ---- methods
    def test_get(self):
        r = self.get("/index.html")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, h.ALICE_INDEX)
        self.assertEqual(int(r.header("content-length")), len(h.ALICE_INDEX))
        self.assertIsNotNone(r.header("date"))
        self.assertIsNotNone(r.header("last-modified"))
        self.assertIsNotNone(r.header("etag"))

    def test_changes_to_a_served_file_are_seen_by_the_next_request(self):
        # The worker keeps recently served files open; none of this may be hidden by it.
        path = os.path.join(self.srv.alice.www, "changing.txt")
        self.srv.alice.write("changing.txt", b"one\n")
        with h.Conn(self.port) as c:
            self.assertEqual(c.request("GET", "/changing.txt", host="alice.test").body, b"one\n")
            self.srv.alice.write("changing.txt", b"two, longer\n")
            self.assertEqual(c.request("GET", "/changing.txt", host="alice.test").body,
                             b"two, longer\n")
            os.chmod(path, 0o000)
            try:
                self.assertStatus(c.request("GET", "/changing.txt", host="alice.test"), 403)
            finally:
                os.chmod(path, 0o644)
            self.assertStatus(c.request("GET", "/changing.txt", host="alice.test"), 200)
            os.unlink(path)
            self.assertStatus(c.request("GET", "/changing.txt", host="alice.test"), 404)

    def test_head(self):
        with h.Conn(self.port) as c:
            r = c.request("HEAD", "/1k.bin", host="alice.test")
            self.assertStatus(r, 200)
            self.assertEqual(r.header("content-length"), "1024")
            # no body was sent: the next response parses right on the same connection
            r2 = c.request("GET", "/index.html", host="alice.test")
            self.assertStatus(r2, 200)
            self.assertEqual(r2.body, h.ALICE_INDEX)

    def test_options(self):
        r = self.get("/index.html", method="OPTIONS")
        self.assertStatus(r, 200)
        allow = [m.strip() for m in (r.header("allow") or "").split(",")]
        for m in ("GET", "HEAD", "OPTIONS"):
            self.assertIn(m, allow)
        for m in ("PUT", "DELETE"):
            self.assertNotIn(m, allow)

    def test_options_star(self):
        with h.Conn(self.port) as c:
            r = c.request("OPTIONS", "*", host="alice.test", headers=[("Connection", "close")])
        self.assertStatus(r, 200)

    def test_post_is_405(self):
        with h.Conn(self.port) as c:
            r = c.request("POST", "/index.html", host="alice.test", body=b"a=1",
                          headers=[("Connection", "close")])
        self.assertStatus(r, 405)
        self.assertIn("GET", r.header("allow") or "")

    def test_delete_is_405(self):
        self.assertStatus(self.get("/index.html", method="DELETE"), 405)

    def test_unknown_method_is_501(self):
        self.assertStatus(self.get("/index.html", method="BREW"), 501)

    # ---- types
    def test_content_types(self):
        cases = {"/index.html": "text/html", "/style.css": "text/css",
                 "/data.json": "application/json", "/img.png": "image/png",
                 "/file.foo": "application/x-foo"}
        for path, ctype in cases.items():
            with self.subTest(path=path):
                r = self.get(path)
                self.assertStatus(r, 200)
                self.assertEqual((r.header("content-type") or "").split(";")[0].strip(), ctype)

    def test_default_charset(self):
        r = self.get("/index.html", host="bob.test")
        self.assertEqual(r.header("content-type").replace(" ", "").lower(),
                         "text/html;charset=utf-8")
        # only on text/html and text/plain
        r = self.get("/1k.bin", host="bob.test")
        self.assertNotIn("charset", (r.header("content-type") or "").lower())

    # ---- conditional and partial
    def test_etag_if_none_match(self):
        etag = self.get("/1k.bin").header("etag")
        self.assertTrue(etag)
        r = self.get("/1k.bin", headers=[("If-None-Match", etag)])
        self.assertStatus(r, 304)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("etag"), etag)
        self.assertStatus(self.get("/1k.bin", headers=[("If-None-Match", '"nope"')]), 200)
        self.assertStatus(self.get("/1k.bin", headers=[("If-None-Match", "*")]), 304)

    def test_file_etag_none(self):
        r = self.get("/noetag/page.html")
        self.assertStatus(r, 200)
        self.assertIsNone(r.header("etag"))
        self.assertIsNotNone(r.header("last-modified"))  # still revalidates by date
        self.assertStatus(self.get("/noetag/page.html", headers=[("If-None-Match", '"x"')]), 200)
        self.assertIsNotNone(self.get("/index.html").header("etag"))

    def test_last_modified_if_modified_since(self):
        lm = self.get("/1k.bin").header("last-modified")
        self.assertTrue(re.match(r"^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$", lm), lm)
        self.assertStatus(self.get("/1k.bin", headers=[("If-Modified-Since", lm)]), 304)
        self.assertStatus(self.get("/1k.bin", headers=[
            ("If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT")]), 200)

    def test_range(self):
        data = self.srv.alice.small
        r = self.get("/1k.bin", headers=[("Range", "bytes=0-99")])
        self.assertStatus(r, 206)
        self.assertEqual(r.header("content-range"), "bytes 0-99/1024")
        self.assertEqual(r.body, data[:100])
        r = self.get("/1k.bin", headers=[("Range", "bytes=-100")])
        self.assertStatus(r, 206)
        self.assertEqual(r.body, data[-100:])
        r = self.get("/1k.bin", headers=[("Range", "bytes=1000-")])
        self.assertStatus(r, 206)
        self.assertEqual(r.header("content-range"), "bytes 1000-1023/1024")
        self.assertEqual(r.body, data[1000:])

    def test_range_not_satisfiable(self):
        r = self.get("/1k.bin", headers=[("Range", "bytes=2000-")])
        self.assertStatus(r, 416)
        self.assertEqual(r.header("content-range"), "bytes */1024")

    def test_if_range(self):
        first = self.get("/1k.bin")
        etag = first.header("etag")
        r = self.get("/1k.bin", headers=[("Range", "bytes=0-9"), ("If-Range", etag)])
        self.assertStatus(r, 206)
        self.assertEqual(r.body, self.srv.alice.small[:10])
        r = self.get("/1k.bin", headers=[("Range", "bytes=0-9"), ("If-Range", '"stale"')])
        self.assertStatus(r, 200)
        self.assertEqual(r.body, self.srv.alice.small)

    # ---- mapping
    def test_directory_index(self):
        self.assertEqual(self.get("/").body, h.ALICE_INDEX)
        self.assertEqual(self.get("/sub/").body, b"sub index\n")

    def test_directory_without_slash_redirects(self):
        r = self.get("/sub")
        self.assertStatus(r, 301)
        self.assertTrue((r.header("location") or "").endswith("/sub/"), r.header("location"))

    def test_directory_listing_escapes_names(self):
        r = self.get("/list/")
        self.assertStatus(r, 200)
        self.assertTrue(r.header("content-type").startswith("text/html"))
        self.assertIn(b"plain.txt", r.body)
        self.assertNotIn(LIST_NAME.encode(), r.body)
        self.assertIn(b"a&lt;b&amp;c&gt;.txt", r.body)

    def test_ht_files_and_files_require_are_denied(self):
        # A site moved from Apache keeps .htaccess and .htpasswd in its docroot; Apache's
        # stock configuration denies them, and so does itkd, with the reason in the log.
        watch = h.LogWatch(self.srv.alice.error_log, self.srv.error_log)
        for path in ("/.htpasswd", "/.htaccess", "/backup.sql", "/gone.sql"):
            r = self.get(path)
            self.assertStatus(r, 403, path)
            self.assertNotIn(b"hash", r.body)
        h.wait_for(lambda: "client denied by server configuration" in
                   watch.new_text(self.srv.alice.error_log) + watch.new_text(self.srv.error_log),
                   timeout=5, what="the reason for the 403 in the log")
        # A listing leaves out what it would refuse, as mod_autoindex does.
        r = self.get("/list/")
        self.assertIn(b"plain.txt", r.body)
        self.assertNotIn(b".htpasswd", r.body)

    def test_access_by_client_address(self):
        watch = h.LogWatch(self.srv.alice.error_log, self.srv.error_log)
        get = lambda path, source: h.get(self.port, path, source=source)  # noqa: E731
        # Require ip in a <Directory>: only the listed address, for files and the directory.
        self.assertEqual(get("/office/plan.txt", "127.0.0.2").body, b"office plan\n")
        for source in ("127.0.0.1", "127.0.0.5"):
            for path in ("/office/plan.txt", "/office/", "/office", "/office/missing"):
                r = get(path, source)
                self.assertStatus(r, 403, f"{path} from {source}")
                self.assertNotIn(b"plan", r.body)
        h.wait_for(lambda: "client denied by server configuration" in
                   watch.new_text(self.srv.alice.error_log) + watch.new_text(self.srv.error_log),
                   timeout=5, what="the reason for the 403 in the log")
        # <Location> with a negated rule: everyone but one address, by URL.
        self.assertEqual(get("/staff/roster.txt", "127.0.0.1").body, b"roster\n")
        self.assertStatus(get("/staff/roster.txt", "127.0.0.3"), 403)
        self.assertStatus(get("/staff/", "127.0.0.3"), 403)
        # Order deny,allow / Deny from all / Allow from one address.
        self.assertEqual(get("/legacy.txt", "127.0.0.4").body, b"legacy\n")
        self.assertStatus(get("/legacy.txt", "127.0.0.1"), 403)
        # The same rules hold on a kept-alive connection, request after request.
        with h.Conn(self.port, source="127.0.0.3") as c:
            self.assertStatus(c.request("GET", "/x", host="alice.test"), 200)
            self.assertStatus(c.request("GET", "/staff/roster.txt", host="alice.test"), 403)
            self.assertStatus(c.request("GET", "/legacy.txt", host="alice.test"), 403)
            self.assertStatus(c.request("GET", "/office/plan.txt", host="alice.test"), 403)

    def test_basic_authentication(self):
        def auth(user_pass):
            return [("Authorization", "Basic " + base64.b64encode(user_pass.encode()).decode())]
        r = self.get("/staging/")
        self.assertStatus(r, 401)
        self.assertEqual(r.header("WWW-Authenticate"), 'Basic realm="Staging site"')
        self.assertNotIn(b"staging site", r.body)
        watch = h.LogWatch(self.srv.alice.error_log, self.srv.error_log)
        for creds in ("ann:wrong", "nobody:secret"):
            r = self.get("/staging/index.html", headers=auth(creds))
            self.assertStatus(r, 401, creds)
            self.assertNotIn(b"staging site", r.body)
        h.wait_for(lambda: "user ann: authentication failure" in
                   watch.new_text(self.srv.alice.error_log) + watch.new_text(self.srv.error_log),
                   timeout=5, what="the failed login in the error log")
        for creds in ("ann:secret", "ben:secret"):  # bcrypt and $apr1$
            r = self.get("/staging/", headers=auth(creds))
            self.assertStatus(r, 200, creds)
            self.assertEqual(r.body, b"staging site\n")
        # The user is in the access log (%u of the combined format).
        def logged_ben():
            with open(self.srv.alice.access_log, errors="replace") as f:
                return any(" - ben [" in line for line in f)
        h.wait_for(logged_ben, timeout=5, what="ben in the access log")

    def test_another_owners_password_file_is_not_readable(self):
        # Naming bob's 0600 htpasswd in alice's vhost gets alice nothing: her worker runs
        # as alice and can't open it, so the request fails closed (500), with the reason.
        watch = h.LogWatch(self.srv.alice.error_log, self.srv.error_log)
        r = self.get("/stolen/x.txt",
                     headers=[("Authorization", "Basic " + base64.b64encode(b"ann:secret").decode())])
        self.assertStatus(r, 500)
        self.assertNotIn(b"x\n", r.body)
        h.wait_for(lambda: "Permission denied" in
                   watch.new_text(self.srv.alice.error_log) + watch.new_text(self.srv.error_log),
                   timeout=5, what="the unreadable AuthUserFile in the log")

    def test_no_listing_without_indexes(self):
        self.assertStatus(self.get("/noindex/"), 403)
        self.assertStatus(self.get("/noindex/file.txt"), 200)

    def test_alias(self):
        r = self.get("/aliased/aliased.txt")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, ALIASED)

    def test_redirect_match(self):
        r = self.get("/blog/2024/hello%20world.html?utm=x")
        self.assertStatus(r, 301)
        self.assertEqual(r.header("location"), "https://news.alice.test/2024/hello%20world?utm=x")
        self.assertStatus(self.get("/blog/draft.html"), 404)  # no match: mapped as usual

    def test_redirect(self):
        r = self.get("/old")
        self.assertStatus(r, 302)
        self.assertEqual(r.header("location"), "http://alice.test/new")
        r = self.get("/old/deeper/page.html")
        self.assertStatus(r, 302)
        self.assertEqual(r.header("location"), "http://alice.test/new/deeper/page.html")
        r = self.get("/perm")
        self.assertStatus(r, 301)
        self.assertEqual(r.header("location"), "http://alice.test/moved")

    def test_error_document_404(self):
        r = self.get("/does-not-exist.html")
        self.assertStatus(r, 404)
        self.assertEqual(r.body, NOT_FOUND_PAGE)

    def test_plain_404(self):
        r = self.get("/does-not-exist.html", host="bob.test")
        self.assertStatus(r, 404)
        self.assertNotIn(b"ALICE", r.body)

    def test_percent_decoding(self):
        r = self.get("/a%20b.html")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"space in name\n")
        self.assertStatus(self.get("/%69ndex.html"), 200)

    def test_dot_segments(self):
        self.assertEqual(self.get("/./index.html").body, h.ALICE_INDEX)
        self.assertEqual(self.get("/sub/../index.html").body, h.ALICE_INDEX)
        self.assertEqual(self.get("/sub/./index.html").body, b"sub index\n")

    def test_traversal_never_leaves_docroot(self):
        attempts = ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc/passwd",
                    "/sub/../../../../etc/passwd", "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                    "/..\\..\\etc\\passwd", "/.%2e/.%2e/etc/passwd",
                    "/../bob/www/secret.txt", "/../../bob/www/secret.txt"]
        for path in attempts:
            with self.subTest(path=path):
                r = self.get(path)
                self.assertIsNotNone(r)
                self.assertNotIn(b"root:x:0:0", r.body)
                self.assertNotIn(b"BOB-SECRET", r.body)
                self.assertIn(r.status, (400, 403, 404))

    def test_nul_in_path(self):
        r = self.get("/index.html%00.png")
        self.assertIn(r.status, (400, 404))

    # ---- connection handling
    def test_chunked_body_on_get_is_discarded(self):
        with h.Conn(self.port) as c:
            c.send(b"GET /index.html HTTP/1.1\r\nHost: alice.test\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\n\r\n")
            r = c.read_response()
            self.assertStatus(r, 200)
            self.assertEqual(r.body, h.ALICE_INDEX)
            r = c.request("GET", "/x", host="alice.test")
            self.assertStatus(r, 200)
            self.assertEqual(r.body, b"x\n")

    def test_content_length_body_on_get_is_discarded(self):
        with h.Conn(self.port) as c:
            r = c.request("GET", "/x", host="alice.test", body=b"GET /sub/ HTTP/1.1\r\n\r\n")
            self.assertEqual(r.body, b"x\n")
            r = c.request("GET", "/index.html", host="alice.test")
            self.assertEqual(r.body, h.ALICE_INDEX)

    def test_pipelining(self):
        with h.Conn(self.port) as c:
            c.send(b"GET /index.html HTTP/1.1\r\nHost: alice.test\r\n\r\n"
                   b"GET /1k.bin HTTP/1.1\r\nHost: alice.test\r\n\r\n"
                   b"HEAD /x HTTP/1.1\r\nHost: alice.test\r\n\r\n"
                   b"GET /x HTTP/1.1\r\nHost: alice.test\r\nConnection: close\r\n\r\n")
            self.assertEqual(c.read_response().body, h.ALICE_INDEX)
            self.assertEqual(c.read_response().body, self.srv.alice.small)
            r = c.read_response("HEAD")
            self.assertEqual(r.header("content-length"), "2")
            self.assertEqual(c.read_response().body, b"x\n")
            self.assertTrue(c.closed_by_peer())
            self.assertEqual(c.buf, b"")

    def test_http10_closes_by_default(self):
        with h.Conn(self.port) as c:
            r = c.request("GET", "/x", host="alice.test", version="HTTP/1.0")
            self.assertStatus(r, 200)
            self.assertTrue(c.closed_by_peer())

    def test_http10_keep_alive(self):
        with h.Conn(self.port) as c:
            r = c.request("GET", "/x", host="alice.test", version="HTTP/1.0",
                          headers=[("Connection", "keep-alive")])
            self.assertStatus(r, 200)
            self.assertEqual((r.header("connection") or "").lower(), "keep-alive")
            r = c.request("GET", "/index.html", host="alice.test", version="HTTP/1.0",
                          headers=[("Connection", "keep-alive")])
            self.assertEqual(r.body, h.ALICE_INDEX)

    def test_connection_close_honoured(self):
        with h.Conn(self.port) as c:
            r = c.request("GET", "/x", host="alice.test", headers=[("Connection", "close")])
            self.assertStatus(r, 200)
            self.assertEqual((r.header("connection") or "").lower(), "close")
            self.assertTrue(c.closed_by_peer())

    def test_keep_alive_reuse(self):
        with h.Conn(self.port) as c:
            for _ in range(5):
                r = c.request("GET", "/1k.bin", host="alice.test")
                self.assertEqual(r.body, self.srv.alice.small)

    def test_access_log_combined(self):
        watch = h.LogWatch(self.srv.alice.access_log)
        r = self.get("/x", headers=[("User-Agent", "ua")])
        self.assertStatus(r, 200)
        text = h.wait_for(lambda: "GET /x " in watch.new_text(self.srv.alice.access_log)
                          and watch.new_text(self.srv.alice.access_log),
                          timeout=5, what="access log line")
        line = [l for l in text.splitlines() if '"GET /x ' in l][-1]
        self.assertRegex(line, r'^127\.0\.0\.1 - - \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} '
                               r'[+-]\d{4}\] "GET /x HTTP/1\.1" 200 \d+ "-" "ua"$')
        self.assertNotIn("GET /x ", h.read_text(self.srv.bob.access_log))

    # ---- bodies
    def test_100k_byte_exact(self):
        r = self.get("/100k.bin")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, self.srv.alice.medium)

    def test_1m_byte_exact(self):
        r = self.get("/1m.bin")
        self.assertStatus(r, 200)
        self.assertEqual(len(r.body), len(ONE_MIB))
        self.assertEqual(r.body, ONE_MIB)

    def test_1m_with_curl(self):
        rc, out, err = h.curl(["-H", "Host: alice.test", f"http://127.0.0.1:{self.port}/1m.bin"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, ONE_MIB)

    def test_curl_keepalive_two_urls(self):
        url = f"http://127.0.0.1:{self.port}"
        rc, out, err = h.curl(["-v", "-H", "Host: alice.test", f"{url}/x", f"{url}/index.html"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, b"x\n" + h.ALICE_INDEX)
        self.assertIn("Re-using existing connection", err)


def ka_config(srv):
    return h.standard_config(srv, global_extra="MaxKeepAliveRequests 3\nKeepAliveTimeout 1\n")


class KeepAliveLimits(h.ServerTestCase):
    config = ka_config

    def test_max_keep_alive_requests(self):
        with h.Conn(self.port) as c:
            for i in range(3):
                r = c.request("GET", "/", host="alice.test")
                self.assertStatus(r, 200)
                conn = (r.header("connection") or "").lower()
                if i < 2:
                    self.assertNotEqual(conn, "close", f"response {i + 1}")
                else:
                    self.assertEqual(conn, "close", "third response must close")
            self.assertTrue(c.closed_by_peer())

    def test_keep_alive_timeout(self):
        with h.Conn(self.port) as c:
            r = c.request("GET", "/", host="alice.test")
            self.assertStatus(r, 200)
            t0 = time.monotonic()
            self.assertTrue(c.closed_by_peer(4), "idle keep-alive connection not closed")
            elapsed = time.monotonic() - t0
            self.assertGreater(elapsed, 0.5, "closed before KeepAliveTimeout")
            self.assertLess(elapsed, 3.0, "KeepAliveTimeout 1 not applied")

    def test_activity_within_timeout_keeps_connection(self):
        with h.Conn(self.port) as c:
            self.assertStatus(c.request("GET", "/", host="alice.test"), 200)
            time.sleep(0.4)
            self.assertStatus(c.request("GET", "/", host="alice.test"), 200)

    def test_each_request_restarts_the_keep_alive_timeout(self):
        # The timer armed after the first request fires 1 s later; by then the second
        # request has moved the deadline, so the connection lives ~1 s past the second.
        with h.Conn(self.port) as c:
            self.assertStatus(c.request("GET", "/", host="alice.test"), 200)
            time.sleep(0.7)
            self.assertStatus(c.request("GET", "/", host="alice.test"), 200)
            t0 = time.monotonic()
            self.assertTrue(c.closed_by_peer(4), "idle keep-alive connection not closed")
            elapsed = time.monotonic() - t0
            self.assertGreater(elapsed, 0.6, "closed by the first request's deadline")
            self.assertLess(elapsed, 3.0, "KeepAliveTimeout 1 not applied")


if __name__ == "__main__":
    h.main()
