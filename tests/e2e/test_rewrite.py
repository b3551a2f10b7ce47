#!/usr/bin/env python3
"""mod_rewrite as hosting admins carry it over from Apache: WordPress's block in a
<Directory> (pretty permalinks reach index.php as the owner, with the client's
REQUEST_URI), www and https redirects at vhost level, [F] on backups, Laravel's
Authorization line, and what a rewrite must never do: lift a <Location> restriction,
test another tenant's files as anyone but the owner, or serve another owner's site."""

import os
import re
import unittest

import itkd_harness as h

# WordPress's index.php, reduced to what the test reads.
INDEX_PHP = (b'<?php echo "wp euid=", posix_geteuid(), " uri=", $_SERVER["REQUEST_URI"], " script=",'
             b' $_SERVER["SCRIPT_NAME"], " query=", $_SERVER["QUERY_STRING"], " redirect=",'
             b' $_SERVER["REDIRECT_URL"] ?? "-", "\\n";')

CGI_ENV = b"""#!/bin/sh
echo "Content-Type: text/plain"
echo
env | grep -E '^(HTTP_AUTHORIZATION|REDIRECT_HTTP_AUTHORIZATION|REQUEST_URI|QUERY_STRING|SCRIPT_NAME|FROM_RULE)=' | sort
"""


def setup(srv):
    h.require_tool("php-cgi")
    a, b = srv.alice, srv.bob
    a.write("blog/index.php", INDEX_PHP)
    a.write("blog/style.css", b"body{}\n")
    a.write("blog/wp-admin/admin.txt", b"admin area\n")
    a.write("blog/backup.sql", b"secret dump\n")
    a.write("public/a.html", b"public a\n")
    a.write("probe/yes.html", b"yes\n")
    a.write("probe/no.html", b"no\n")
    a.write("loop/x.html", b"x\n")
    a.home_write("cgi-bin/env.sh", CGI_ENV, mode=0o755)
    b.write("private.txt", b"bob's private file\n")


def config(srv):
    a, b = srv.alice, srv.bob
    alice_extra = (
        f"  ScriptAlias /cgi-bin/ {a.home}/cgi-bin/\n"
        f"  DirectoryIndex index.php index.html\n"
        f"  AddHandler fcgid-script .php\n"
        f"  FcgidWrapper /usr/bin/php-cgi .php\n"
        f"  <Directory {a.www}/blog>\n"
        f"    Options +ExecCGI\n"
        # WordPress's block, as its admin screen writes it into .htaccess.
        f"    <IfModule mod_rewrite.c>\n"
        f"    RewriteEngine On\n"
        f"    RewriteBase /blog/\n"
        f"    RewriteRule ^index\\.php$ - [L]\n"
        f"    RewriteCond %{{REQUEST_FILENAME}} !-f\n"
        f"    RewriteCond %{{REQUEST_FILENAME}} !-d\n"
        f"    RewriteRule . /blog/index.php [L]\n"
        f"    </IfModule>\n"
        f"  </Directory>\n"
        f"  <Directory {a.www}/loop>\n"
        f"    RewriteEngine On\n"
        f"    RewriteRule ^(.*)$ x$1\n"
        f"  </Directory>\n"
        f"  <Location /private>\n    Require ip 127.0.0.2\n  </Location>\n"
        f"  SetEnvIf X-Variant ^b$ variant=b\n"
        f"  RewriteEngine On\n"
        f"  RewriteCond %{{ENV:variant}} =b\n"
        f"  RewriteRule ^/landing$ /public/a.html [L]\n"
        f"  RewriteCond %{{HTTP_HOST}} ^www\\.(.+)$ [NC]\n"
        f"  RewriteRule ^/?(.*)$ http://%1/$1 [R=301,L]\n"
        f"  RewriteRule \\.(sql|bak)$ - [F]\n"
        f"  RewriteRule ^/retired/ - [G]\n"
        f"  RewriteRule ^/private/(.*)$ /public/$1 [L]\n"
        f"  RewriteRule ^/post/(\\d+)$ /blog/index.php?p=$1 [QSA,L]\n"
        f"  RewriteRule ^/api/(.*)$ /cgi-bin/env.sh [E=FROM_RULE:$1,L]\n"
        f"  RewriteCond %{{HTTP:Authorization}} .\n"
        f"  RewriteRule ^/auth$ /cgi-bin/env.sh [E=HTTP_AUTHORIZATION:%{{HTTP:Authorization}},L]\n"
        # Runs as alice: bob's 0750 home keeps the file out of reach of -f.
        f"  RewriteCond {b.www}/private.txt -f\n"
        f"  RewriteRule ^/probe$ /probe/yes.html [L]\n"
        f"  RewriteRule ^/probe$ /probe/no.html [L]\n"
        # Another owner's site named in a substitution: a redirect, never served here.
        f"  RewriteRule ^/to-bob$ http://bob.test/private.txt [L]\n"
        f"  RewriteRule ^/bob-file$ {b.www}/private.txt [L]\n")
    return h.standard_config(srv, alice_extra=alice_extra)


class Rewrite(h.ServerTestCase):
    config = config
    setup_tree = setup

    def test_wordpress_permalinks_reach_index_php_as_the_owner(self):
        r = self.get("/blog/2026/11/hello-world/?replytocom=5")
        self.assertStatus(r, 200)
        self.assertEqual(r.body.decode().strip(),
                         f"wp euid={self.srv.alice.uid} uri=/blog/2026/11/hello-world/?replytocom=5 "
                         f"script=/blog/index.php query=replytocom=5 redirect=/blog/2026/11/hello-world/")

    def test_wordpress_files_and_directories_are_served_as_they_are(self):
        self.assertEqual(self.get("/blog/style.css").body, b"body{}\n")
        self.assertEqual(self.get("/blog/wp-admin/admin.txt").body, b"admin area\n")
        r = self.get("/blog/")
        self.assertStatus(r, 200)
        self.assertIn(b"uri=/blog/ script=/blog/index.php", r.body)  # DirectoryIndex, no rewrite

    def test_www_redirect_keeps_path_and_query(self):
        r = self.get("/some/page?x=1", host="www.alice.test")
        self.assertStatus(r, 301)
        self.assertEqual(r.header("location"), "http://alice.test/some/page?x=1")

    def test_a_variable_from_setenvif_steers_a_rule(self):
        self.assertStatus(self.get("/landing"), 404)
        self.assertEqual(self.get("/landing", headers=[("X-Variant", "b")]).body, b"public a\n")

    def test_forbidden_and_gone(self):
        watch = h.LogWatch(self.srv.alice.error_log)
        self.assertStatus(self.get("/blog/backup.sql"), 403)
        self.assertStatus(self.get("/retired/old.html"), 410)
        # The admin learns which rule answered, and where it is written.
        text = h.wait_for(lambda: (lambda t: t if "/retired/old.html" in t else None)(
            watch.new_text(self.srv.alice.error_log)), timeout=5, what="rule log lines")
        # (The error log escapes a backslash as two, as Apache's does.)
        self.assertRegex(text, r"RewriteRule \\\\\.\(sql\|bak\)\$ at \S+\.conf:\d+ answers 403 for /blog/backup\.sql")
        self.assertEqual(text.count("answers 403 for /blog/backup.sql"), 1)
        self.assertRegex(text, r"RewriteRule \^/retired/ at \S+\.conf:\d+ answers 410 for /retired/old\.html")

    def test_pretty_url_with_query_append(self):
        r = self.get("/post/42?utm=mail")
        self.assertStatus(r, 200)
        self.assertIn(b"uri=/post/42?utm=mail script=/blog/index.php query=p=42&utm=mail redirect=-", r.body)

    def test_rule_variables_and_authorization_reach_the_script(self):
        r = self.get("/api/users/7")
        self.assertStatus(r, 200)
        self.assertIn(b"FROM_RULE=users/7\n", r.body)
        self.assertIn(b"REQUEST_URI=/api/users/7\n", r.body)
        self.assertIn(b"SCRIPT_NAME=/cgi-bin/env.sh\n", r.body)
        r = self.get("/auth", headers=[("Authorization", "Bearer t0ken")])
        self.assertIn(b"HTTP_AUTHORIZATION=Bearer t0ken\n", r.body)
        # Without the rule, a CGI never sees the credentials (CGIPassAuth Off).
        r = self.get("/cgi-bin/env.sh", headers=[("Authorization", "Bearer t0ken")])
        self.assertStatus(r, 200)
        self.assertNotIn(b"t0ken", r.body)

    def test_a_rewrite_does_not_lift_a_location_restriction(self):
        self.assertEqual(self.get("/public/a.html").body, b"public a\n")
        r = self.get("/private/a.html")
        self.assertStatus(r, 403)
        self.assertNotIn(b"public a", r.body)

    def test_file_tests_run_as_the_owner(self):
        # As root, -f would find bob's file; as alice (bob's home is 0750) it can't.
        self.assertTrue(os.path.exists(os.path.join(self.srv.bob.www, "private.txt")))
        self.assertEqual(self.get("/probe").body, b"no\n")

    def test_other_owners_files_and_sites_stay_out_of_reach(self):
        r = self.get("/to-bob")
        self.assertStatus(r, 302)
        self.assertEqual(r.header("location"), "http://bob.test/private.txt")
        self.assertNotIn(b"private file", r.body)
        # A filesystem path as substitution is a URL path of this site: 404, not bob's file.
        r = self.get("/bob-file")
        self.assertStatus(r, 404)
        self.assertNotIn(b"private file", r.body)

    def test_a_rule_that_never_stops_is_a_500_with_the_reason_logged(self):
        watch = h.LogWatch(self.srv.alice.error_log)
        r = self.get("/loop/a")
        self.assertStatus(r, 500)
        text = h.wait_for(lambda: (lambda t: t if "internal redirects" in t else None)(
            watch.new_text(self.srv.alice.error_log)), timeout=5, what="loop log line")
        self.assertRegex(text, r"limit of 10 internal redirects: the RewriteRule lines of <Directory \S+/loop> "
                               r"\(\S+\.conf:\d+\)")
        # The worker keeps serving.
        self.assertStatus(self.get("/public/a.html"), 200)

    def test_the_other_owner_has_no_rules(self):
        self.assertStatus(self.get("/post/42", host="bob.test"), 404)
        self.assertStatus(self.get("/x", host="www.bob.test"), 404)


class RewriteConfigCheck(unittest.TestCase):
    """Rules itkd can't apply stop `itkd -t` with file:line."""

    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def test_check_lists_where_rules_run(self):
        path = os.path.join(self.srv.conf_dir, "good.conf")
        with open(path, "w") as f:
            f.write(config(self.srv))
        rc, out, err = h.run_itkd(["-t", "-f", path])
        self.assertEqual(rc, 0, err)
        self.assertIn(f"rewrite in <Directory {self.srv.alice.www}/blog>: 2 rule(s), RewriteBase /blog/\n", out)
        self.assertRegex(out, r"rewrite: 1[0-9] rule\(s\) on the URL\n")

    def test_unsupported_rules_are_refused_with_file_and_line(self):
        for line, reason in (("  RewriteRule ^/(.*)$ http://127.0.0.1:8080/$1 [P]", r"\[P\] \(proxying\)"),
                             ("  RewriteMap lower int:tolower", r"RewriteMap is not supported"),
                             ("  RewriteCond %{HTTP_HOST} (?i)^www", r"\(\?i\)")):
            with self.subTest(line=line):
                text = h.standard_config(self.srv, alice_extra=line + "\n  RewriteRule ^ -\n")
                path = os.path.join(self.srv.conf_dir, "rewrite.conf")
                with open(path, "w") as f:
                    f.write(text)
                rc, out, err = h.run_itkd(["-t", "-f", path])
                self.assertEqual(rc, 1, err)
                number = [i for i, l in enumerate(text.splitlines(), 1) if l == line][0]
                self.assertRegex(err, re.escape(f"{path}:{number}:") + ".*" + reason)


if __name__ == "__main__":
    h.main()
