#!/usr/bin/env python3
"""mod_headers and mod_expires: the Header, RequestHeader and Expires* lines hosting admins carry over from Apache (HSTS, X-Frame-Options,
Set-Cookie flags, hiding X-Powered-By) reach the client, on files, on the server's own
errors and redirects (`always`), and on what a CGI script answers."""

import email.utils
import os
import re
import unittest

import itkd_harness as h

# A script that sends what PHP applications send: its framework's banner and a cookie.
CGI_BANNER = b"""#!/bin/sh
echo "Content-Type: text/plain"
echo "X-Powered-By: PHP/8.2.7"
echo "Set-Cookie: sid=abc; Path=/"
case "$QUERY_STRING" in missing) echo "Status: 404 Not Found" ;; esac
echo
echo "script body"
"""

CGI_ENV = b"""#!/bin/sh
echo "Content-Type: text/plain"
echo
env | grep '^HTTP_' | sort
"""

# What SetEnvIf gave the request.
CGI_VARS = b"""#!/bin/sh
echo "Content-Type: text/plain"
echo
echo "HTTPS=${HTTPS:-unset} internal=${internal:-unset} tier=${tier:-unset}"
"""


def setup(srv):
    a = srv.alice
    a.write("style.css", b"body{}\n")
    a.write("docs/a.pdf", b"%PDF-1.4\n")
    a.write("docs/b.txt", b"plain doc\n")
    a.write("nocache/live.html", b"live\n")
    a.home_write("cgi-bin/banner.sh", CGI_BANNER, mode=0o755)
    a.home_write("cgi-bin/env.sh", CGI_ENV, mode=0o755)
    a.home_write("cgi-bin/vars.sh", CGI_VARS, mode=0o755)
    a.write("health.txt", b"ok\n")
    a.home_write("cgi-bin/api/env.sh", CGI_ENV, mode=0o755)


def filtered_log(srv):
    return os.path.join(srv.root, "logs", "alice.filtered.log")


def config(srv):
    a = srv.alice
    alice_extra = (
        f"  ScriptAlias /cgi-bin/ {a.home}/cgi-bin/\n"
        f"  Redirect /old http://alice.test/new\n"
        f"  <IfModule mod_headers.c>\n"
        f"    Header always set X-Frame-Options SAMEORIGIN\n"
        f"    Header set X-Handler-Only yes\n"
        f"    Header always set Strict-Transport-Security \"max-age=600\" env=HTTPS\n"
        f"    Header always unset X-Powered-By\n"
        f"    Header edit Set-Cookie ^(.*)$ \"$1; HttpOnly\"\n"
        f"    Header echo ^X-Trace-\n"
        f"    Header set X-Timing %D\n"
        f"  </IfModule>\n"
        f"  <IfModule mod_expires.c>\n"
        f"    ExpiresActive On\n"
        f"    ExpiresByType text/css \"access plus 1 hour\"\n"
        f"    ExpiresDefault A60\n"
        f"  </IfModule>\n"
        f"  <Directory {a.www}/nocache>\n    ExpiresActive Off\n  </Directory>\n"
        f"  <Directory {a.www}/docs>\n    Header append Cache-Control no-transform\n  </Directory>\n"
        f"  <FilesMatch \"\\.css$\">\n    Header set Cache-Control \"max-age=3600, public\"\n  </FilesMatch>\n"
        f"  RequestHeader set X-Forwarded-Proto https\n"
        f"  RequestHeader unset Proxy early\n"
        f"  RequestHeader edit User-Agent ^curl tool\n"
        f"  <Location /cgi-bin/api>\n    RequestHeader unset Cookie\n  </Location>\n"
        f"  <Location /docs>\n    Header merge Vary Accept-Encoding\n    Header merge Vary Accept-Encoding\n"
        f"  </Location>\n"
        # mod_setenvif, as sites behind a TLS-terminating proxy and health checks use it.
        f"  <IfModule mod_setenvif.c>\n"
        f"    SetEnvIf X-Forwarded-Proto ^https$ HTTPS=on\n"
        f"    SetEnvIf Request_URI ^/health\\.txt$ dontlog\n"
        f"    SetEnvIf Remote_Addr ^127\\. internal\n"
        f"    SetEnvIfNoCase X-Tier ^(gold|silver)$ tier=$1\n"
        f"    BrowserMatch ^OldBot nokeepalive\n"
        f"  </IfModule>\n"
        f"  Header set X-Internal yes env=internal\n"
        f"  CustomLog {filtered_log(srv)} combined env=!dontlog\n")
    return h.standard_config(srv, global_extra="Header always set X-Served-By itkd-e2e\n",
                             alice_extra=alice_extra)


class Headers(h.ServerTestCase):
    config = config
    setup_tree = setup

    def test_file_gets_both_kinds_and_keeps_its_body(self):
        r = self.get("/index.html")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, h.ALICE_INDEX)
        self.assertEqual(int(r.header("content-length")), len(h.ALICE_INDEX))
        self.assertEqual(r.header("x-frame-options"), "SAMEORIGIN")
        self.assertEqual(r.header("x-handler-only"), "yes")
        self.assertEqual(r.header("x-served-by"), "itkd-e2e")  # server level, inherited
        self.assertRegex(r.header("x-timing") or "", r"^D=\d+$")
        # env=HTTPS: not on a plain connection.
        self.assertIsNone(r.header("strict-transport-security"))
        self.assertEqual(r.header("server"), "itkd")

    def test_not_modified_is_a_success(self):
        etag = self.get("/index.html").header("etag")
        r = self.get("/index.html", headers=[("If-None-Match", etag)])
        self.assertStatus(r, 304)
        self.assertEqual(r.header("x-handler-only"), "yes")
        self.assertEqual(r.header("x-frame-options"), "SAMEORIGIN")

    def test_errors_and_redirects_get_only_always(self):
        for path, status in (("/missing.html", 404), ("/old", 302)):
            with self.subTest(path=path):
                r = self.get(path)
                self.assertStatus(r, status)
                self.assertEqual(r.header("x-frame-options"), "SAMEORIGIN")
                self.assertEqual(r.header("x-served-by"), "itkd-e2e")
                self.assertIsNone(r.header("x-handler-only"))

    def test_server_made_error_before_any_handler(self):
        # A 405 for a POST to a file, and a 400 from the worker's own parser: still `always`.
        with h.Conn(self.port) as c:
            r = c.request("POST", "/index.html", host="alice.test", body=b"a=1",
                          headers=[("Connection", "close")])
        self.assertStatus(r, 405)
        self.assertEqual(r.header("x-frame-options"), "SAMEORIGIN")
        self.assertIsNone(r.header("x-handler-only"))

    def test_sections_merge_in_apache_order(self):
        r = self.get("/style.css")
        self.assertEqual(r.header("cache-control"), "max-age=3600, public")
        r = self.get("/docs/a.pdf")
        self.assertStatus(r, 200)
        # mod_expires' max-age first, then the <Directory>'s Header append.
        self.assertEqual(r.header("cache-control"), "max-age=60, no-transform")
        self.assertEqual(r.header_all("vary"), ["Accept-Encoding"])  # merged once, not twice
        self.assertIsNone(self.get("/index.html").header("vary"))

    def expires_in(self, r):
        self.assertIsNotNone(r.header("expires"), r.headers)
        stamp = email.utils.parsedate_to_datetime
        return (stamp(r.header("expires")) - stamp(r.header("date"))).total_seconds()

    def test_expires_by_type_and_default(self):
        r = self.get("/index.html")
        self.assertEqual(r.header("cache-control"), "max-age=60")
        self.assertAlmostEqual(self.expires_in(r), 60, delta=2)
        r = self.get("/style.css")
        # The <FilesMatch>'s "Header set Cache-Control" runs after mod_expires and replaces
        # its max-age; Expires stays.
        self.assertEqual(r.header("cache-control"), "max-age=3600, public")
        self.assertAlmostEqual(self.expires_in(r), 3600, delta=2)

    def test_no_expires_on_errors_redirects_or_where_turned_off(self):
        for path in ("/missing.html", "/old", "/nocache/live.html"):
            with self.subTest(path=path):
                r = self.get(path)
                self.assertIsNone(r.header("expires"))
        self.assertStatus(self.get("/nocache/live.html"), 200)
        self.assertIsNone(self.get("/nocache/live.html").header("cache-control"))
        self.assertIsNone(self.get("/index.html", host="bob.test").header("expires"))

    def test_expires_on_scripts_but_not_their_errors(self):
        r = self.get("/cgi-bin/banner.sh")
        self.assertAlmostEqual(self.expires_in(r), 60, delta=2)
        r = self.get("/cgi-bin/banner.sh?missing")
        self.assertStatus(r, 404)
        self.assertIsNone(r.header("expires"))

    def test_script_answer_is_edited(self):
        r = self.get("/cgi-bin/banner.sh")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"script body\n")
        self.assertIsNone(r.header("x-powered-by"))
        self.assertEqual(r.header("set-cookie"), "sid=abc; Path=/; HttpOnly")
        self.assertEqual(r.header("x-handler-only"), "yes")
        self.assertEqual(r.header("x-frame-options"), "SAMEORIGIN")
        # A script's own 404 is still the handler's answer.
        r = self.get("/cgi-bin/banner.sh?missing")
        self.assertStatus(r, 404)
        self.assertEqual(r.header("x-handler-only"), "yes")
        self.assertIsNone(r.header("x-powered-by"))

    def test_echo_copies_only_matching_request_headers(self):
        r = self.get("/index.html", headers=[("X-Trace-Id", "t-42"), ("X-Other", "no")])
        self.assertEqual(r.header("x-trace-id"), "t-42")
        self.assertIsNone(r.header("x-other"))

    def test_keep_alive_framing_survives_edited_heads(self):
        with h.Conn(self.port) as c:
            for path in ("/index.html", "/missing.html", "/cgi-bin/banner.sh", "/docs/b.txt", "/index.html"):
                r = c.request("GET", path, host="alice.test")
                self.assertEqual(r.header("x-frame-options"), "SAMEORIGIN", path)
            self.assertEqual(r.body, h.ALICE_INDEX)

    def test_other_owner_has_only_the_server_rules(self):
        r = self.get("/index.html", host="bob.test")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, h.BOB_INDEX)
        self.assertEqual(r.header("x-served-by"), "itkd-e2e")
        self.assertIsNone(r.header("x-frame-options"))
        self.assertIsNone(r.header("x-handler-only"))


class RequestHeaders(h.ServerTestCase):
    config = config
    setup_tree = setup

    def env_of(self, path, headers):
        r = self.get(path, headers=headers)
        self.assertStatus(r, 200)
        return dict(line.split("=", 1) for line in r.body.decode().splitlines())

    def test_script_sees_the_edited_request(self):
        env = self.env_of("/cgi-bin/env.sh", [("X-Forwarded-Proto", "http"), ("Cookie", "sid=1"),
                                              ("User-Agent", "curl/7.88")])
        self.assertEqual(env["HTTP_X_FORWARDED_PROTO"], "https")
        self.assertEqual(env["HTTP_COOKIE"], "sid=1")
        self.assertEqual(env["HTTP_USER_AGENT"], "tool/7.88")
        self.assertEqual(env["HTTP_HOST"], "alice.test")

    def test_location_rules_apply_below_it_only(self):
        env = self.env_of("/cgi-bin/api/env.sh", [("Cookie", "sid=1")])
        self.assertNotIn("HTTP_COOKIE", env)
        self.assertEqual(env["HTTP_X_FORWARDED_PROTO"], "https")

    def test_other_owner_request_is_untouched(self):
        # bob has no rules: his file is served, and a keep-alive switch to alice and
        # back edits only alice's request.
        with h.Conn(self.port) as c:
            self.assertEqual(c.request("GET", "/index.html", host="bob.test").body, h.BOB_INDEX)
            r = c.request("GET", "/cgi-bin/env.sh", host="alice.test", headers=[("User-Agent", "curl/8")])
            self.assertIn(b"HTTP_USER_AGENT=tool/8", r.body)
            self.assertEqual(c.request("GET", "/index.html", host="bob.test").body, h.BOB_INDEX)


class HeaderConfig(unittest.TestCase):
    """`itkd -t` on Header lines: refused ones name file:line, dropped ones warn."""

    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def check(self, extra):
        text = h.standard_config(self.srv, alice_extra=extra)
        path = os.path.join(self.srv.conf_dir, "headers.conf")
        with open(path, "w") as f:
            f.write(text)
        key = [l for l in extra.splitlines() if "Header" in l][0].strip()
        line = next(i for i, l in enumerate(text.splitlines(), 1) if l.strip() == key)
        rc, out, err = h.run_itkd(["-t", "-f", path])
        return rc, out + err, f"{path}:{line}:"

    def test_refused_lines_name_file_and_line(self):
        for extra, why in (("  Header set X-A \"%{HOME}e\"\n", r"%\{HOME\}e is not supported"),
                           ("  Header edit Set-Cookie \"(\" x\n", r"bad regular expression"),
                           ("  Header set X-A b env=\n", r"env= takes a variable name"),
                           ("  Header edit X-A \"(?i)a\" b\n", r"inline flag"),
                           ("  <Directory /srv>\n    RequestHeader set X-A b\n  </Directory>\n",
                            r"RequestHeader inside <Directory> is not supported yet")):
            with self.subTest(extra=extra):
                rc, text, where = self.check(extra)
                self.assertEqual(rc, 1, text)
                line = [l for l in text.splitlines() if where in l]
                self.assertTrue(line, f"{where} not in {text!r}")
                self.assertRegex(line[0], why)

    def test_server_owned_header_warns(self):
        rc, text, where = self.check("  Header unset Server\n")
        self.assertEqual(rc, 0, text)
        self.assertRegex(text, re.escape(where) + r" Header Server ignored")


class RequestVariables(h.ServerTestCase):
    """SetEnvIf / BrowserMatch: the variables reach scripts, Header env=, CustomLog env=."""
    config = config
    setup_tree = setup

    def test_scripts_get_what_setenvif_set(self):
        r = self.get("/cgi-bin/vars.sh", headers=[("X-Forwarded-Proto", "https"), ("X-Tier", "GOLD")])
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"HTTPS=on internal=1 tier=GOLD\n")
        r = self.get("/cgi-bin/vars.sh", headers=[("X-Forwarded-Proto", "http")])
        self.assertEqual(r.body, b"HTTPS=unset internal=1 tier=unset\n")

    def test_header_condition_on_a_variable(self):
        self.assertEqual(self.get("/index.html").header("x-internal"), "yes")

    def test_customlog_skips_requests_with_the_variable(self):
        path = filtered_log(self.srv)
        watch = h.LogWatch(path)
        self.assertStatus(self.get("/health.txt?probe=1"), 200)
        self.assertStatus(self.get("/index.html?after=health"), 200)
        text = h.wait_for(lambda: (lambda t: t if "after=health" in t else None)(watch.new_text(path)),
                          timeout=5, what="the filtered access log line")
        self.assertNotIn("/health.txt", text)
        # The vhost's own log keeps everything.
        h.wait_for(lambda: "/health.txt?probe=1" in open(self.srv.alice.access_log, errors="replace").read(),
                   timeout=5, what="the health check in the full access log")

    def test_a_bad_request_after_a_quiet_one_is_logged(self):
        # The variables are the request's own: a 400 after a health check on the same
        # connection is not taken for one.
        path = filtered_log(self.srv)
        watch = h.LogWatch(path)
        with h.Conn(self.port) as c:
            self.assertStatus(c.request("GET", "/health.txt", host="alice.test"), 200)
            c.send(b"GET /bad\x01target HTTP/1.1\r\nHost: alice.test\r\n\r\n")
            self.assertStatus(c.read_response(), 400)
        h.wait_for(lambda: '" 400 ' in watch.new_text(path), timeout=5, what="the 400 in the filtered log")
        self.assertNotIn("/health.txt", watch.new_text(path))

    def test_nokeepalive_closes_after_the_answer(self):
        with h.Conn(self.port) as c:
            r = c.request("GET", "/index.html", host="alice.test", headers=[("User-Agent", "OldBot/2.0")])
        self.assertStatus(r, 200)
        self.assertEqual((r.header("connection") or "").lower(), "close")
        with h.Conn(self.port) as c:
            r = c.request("GET", "/index.html", host="alice.test", headers=[("User-Agent", "curl")])
        self.assertEqual((r.header("connection") or "").lower(), "keep-alive")


if __name__ == "__main__":
    h.main()
