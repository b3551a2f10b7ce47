#!/usr/bin/env python3
""".htaccess files, as shared hosting uses them: the site's owner edits them (WordPress
writes its own), the admin's AllowOverride says what they may change, and the owner's
worker reads them as the owner. An edit applies to the next request; a broken file is a
500 for its directory only, with file:line in the owner's error log; a file the owner
can't read is a 403, never read by anyone with more rights."""

import base64
import os
import socket
import unittest

import itkd_harness as h

INDEX_PHP = (b'<?php echo "wp euid=", posix_geteuid(), " uri=", $_SERVER["REQUEST_URI"], " script=",'
             b' $_SERVER["SCRIPT_NAME"], "\\n";')

WORDPRESS = b"""# BEGIN WordPress
<IfModule mod_rewrite.c>
RewriteEngine On
RewriteBase /blog/
RewriteRule ^index\\.php$ - [L]
RewriteCond %{REQUEST_FILENAME} !-f
RewriteCond %{REQUEST_FILENAME} !-d
RewriteRule . /blog/index.php [L]
</IfModule>
# END WordPress
<IfModule mod_deflate.c>
AddOutputFilterByType DEFLATE text/html
</IfModule>
"""

ID_CGI = b"""#!/bin/sh
echo "Content-Type: text/plain"
echo
echo "cgi uid=$(id -u)"
"""

BOB_SECRET = b"bob's secret, never to be served by alice\n"


def setup(srv):
    h.require_tool("php-cgi")
    a, b = srv.alice, srv.bob
    a.write("blog/index.php", INDEX_PHP)
    a.write("blog/style.css", b"body{}\n")
    a.write("blog/.htaccess", WORDPRESS)
    a.write("edit/page.html", b"page\n")
    a.write("members/index.html", b"members only\n")
    a.write("members/.htaccess",
            f"AuthType Basic\nAuthName Members\nAuthUserFile {a.home}/members.htpasswd\n"
            f"Require valid-user\n<Files notes.txt>\nRequire all denied\n</Files>\n".encode())
    a.write("members/notes.txt", b"notes\n")
    a.home_write("members.htpasswd", b"ann:$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/\n", mode=0o600)
    a.write("nolist/a.txt", b"a\n")
    a.write("nolist/.htaccess", b"Options -Indexes\n")
    a.write("broken/page.html", b"never served\n")
    a.write("broken/.htaccess", b"RewriteEngine On\nBogusDirective here\n")
    a.write("authonly/page.html", b"auth only\n")
    a.write("authonly/.htaccess", b"RewriteEngine On\nRewriteRule ^ /elsewhere [R=302,L]\n")
    a.write("lenient/home.html", b"home page\n")
    a.write("lenient/.htaccess", b"Require all denied\nDirectoryIndex home.html\n")
    a.write("cgi/id.cgi", ID_CGI, mode=0o755)
    a.write("cgi/.htaccess", b"Options +ExecCGI\nAddHandler cgi-script .cgi\n")
    a.write("phpini/ini.php", b'<?php echo "memory_limit=", ini_get("memory_limit"), "\\n";')
    a.write("phpini/.htaccess", b"php_value memory_limit 77M\n")
    a.write("phpadmin/ini.php", b'<?php echo "open_basedir=", ini_get("open_basedir"), "\\n";')
    a.write("phpadmin/.htaccess", b"php_value open_basedir /\n")
    a.write("nested/index.html", b"nested\n")
    a.write("nested/.htaccess", b"RewriteEngine On\nRewriteRule ^old$ new.html [L]\n")
    a.write("nested/new.html", b"new at top\n")
    a.write("nested/sub/new.html", b"new in sub\n")
    a.write("nested/sub/other.html", b"other in sub\n")
    a.write("nested/sub/.htaccess", b"RewriteEngine On\nRewriteRule ^old$ other.html [L]\n")
    # Read as alice: a root-owned 0600 file is out of her reach, however it got there.
    a.write("rootfile/page.html", b"page\n")
    a.write("rootfile/.htaccess", b"Require all granted\n", mode=0o600, uid=0)
    # A link into bob's 0750 home: alice's worker can't even look.
    b.write("secret.txt", BOB_SECRET, mode=0o600)
    a.mkdir("peek")
    a.write("peek/page.html", b"page\n")
    os.symlink(os.path.join(b.www, "secret.txt"), os.path.join(a.www, "peek/.htaccess"))
    # What sites put in .htaccess besides rewrite rules: mod_alias, ErrorDocument, mod_mime.
    a.write("moved/new.html", b"new page\n")
    a.write("moved/missing.html", b"custom not found\n")
    a.write("moved/font.woff2", b"wOF2")
    a.write("moved/notes.txt", b"notes\n")
    a.write("moved/secret.html", b"secret\n")
    a.write("moved/.htaccess", b"Redirect 301 /moved/old.html /moved/new.html\n"
                               b"RedirectMatch 302 ^/moved/post/(\\d+)$ /moved/new.html?p=$1\n"
                               b"Redirect 301 /moved/secret.html /moved/new.html\n"
                               b"<Files secret.html>\nRequire all denied\n</Files>\n"
                               b"ErrorDocument 404 /moved/missing.html\n"
                               b"AddType font/woff2 .woff2\nAddDefaultCharset utf-8\n")
    # ErrorDocument naming a script: PHP answers, with the error's status.
    a.write("errdoc/404.php", b'<?php $db_password = "hunter2"; echo "custom ", $_SERVER["REDIRECT_STATUS"],'
                              b' " uri=", $_SERVER["REQUEST_URI"], " redirect=", $_SERVER["REDIRECT_URL"] ?? "-",'
                              b' " euid=", posix_geteuid(), "\\n";')
    a.write("errdoc/closed.txt", b"closed\n")
    a.write("errdoc/.htaccess", b"ErrorDocument 404 /errdoc/404.php\nErrorDocument 403 /errdoc/404.php\n"
                                b"<Files closed.txt>\nRequire all denied\n</Files>\n")
    # What REST API plugins tell users to add: the credentials reach PHP.
    a.write("api/auth.php", b'<?php echo "auth=", $_SERVER["HTTP_AUTHORIZATION"] ?? "-", " nokeep=",'
                            b' $_SERVER["nokeepalive"] ?? "-", "\\n";')
    a.write("api/.htaccess", b'SetEnvIf Authorization "(.*)" HTTP_AUTHORIZATION=$1\n'
                             b'BrowserMatch OldClient nokeepalive\n'
                             b'RewriteEngine On\n'
                             b'RewriteCond %{ENV:HTTP_AUTHORIZATION} ^Bearer\n'
                             b'RewriteRule ^whoami$ auth.php [L]\n')
    # bob's admin allows nothing: his file is never read.
    b.write(".htaccess", b"Require all denied\n")


def config(srv):
    a = srv.alice
    alice_extra = (
        f"  DirectoryIndex index.php index.html\n"
        f"  AddHandler fcgid-script .php\n"
        f"  FcgidWrapper /usr/bin/php-cgi .php\n"
        f"  <Directory {a.www}>\n"
        f"    AllowOverride All\n"
        f"    Options Indexes FollowSymLinks ExecCGI\n"
        f"  </Directory>\n"
        # The owner's file turns it back on (AllowOverride All includes Options).
        f"  <Directory {a.www}/cgi>\n"
        f"    Options -ExecCGI\n"
        f"  </Directory>\n"
        f"  <Directory {a.www}/phpadmin>\n"
        f"    php_admin_value open_basedir {a.home}\n"
        f"  </Directory>\n"
        f"  <Directory {a.www}/authonly>\n"
        f"    AllowOverride AuthConfig\n"
        f"  </Directory>\n"
        f"  <Directory {a.www}/lenient>\n"
        f"    AllowOverride Indexes Nonfatal=Override\n"
        f"  </Directory>\n")
    return h.standard_config(srv, alice_extra=alice_extra)


def basic(user, password):
    return ("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())


class Htaccess(h.ServerTestCase):
    config = config
    setup_tree = setup

    def log_text_with(self, watch, needle):
        return h.wait_for(lambda: (lambda t: t if needle in t else None)(
            watch.new_text(self.srv.alice.error_log)), timeout=5, what=f"log line with {needle!r}")

    def test_wordpress_writes_its_own_rules_and_they_work(self):
        r = self.get("/blog/2026/11/hello-world/")
        self.assertStatus(r, 200)
        self.assertEqual(r.body.decode().strip(),
                         f"wp euid={self.srv.alice.uid} uri=/blog/2026/11/hello-world/ script=/blog/index.php")
        self.assertEqual(self.get("/blog/style.css").body, b"body{}\n")
        self.assertStatus(self.get("/blog/.htaccess"), 403)  # never served

    def test_an_edit_applies_to_the_next_request(self):
        self.assertIsNone(self.get("/edit/page.html").header("x-version"))
        path = self.srv.alice.write("edit/.htaccess", b"Header set X-Version one\n")
        self.assertEqual(self.get("/edit/page.html").header("x-version"), "one")
        with open(path, "wb") as f:
            f.write(b"Header set X-Version two-and-longer\n")
        self.assertEqual(self.get("/edit/page.html").header("x-version"), "two-and-longer")
        os.unlink(path)
        self.assertIsNone(self.get("/edit/page.html").header("x-version"))

    def test_passwords_and_denials_from_the_file(self):
        r = self.get("/members/")
        self.assertStatus(r, 401)
        self.assertEqual(r.header("www-authenticate"), 'Basic realm="Members"')
        self.assertEqual(self.get("/members/", headers=[basic("ann", "secret")]).body, b"members only\n")
        self.assertStatus(self.get("/members/", headers=[basic("ann", "wrong")]), 401)
        self.assertStatus(self.get("/members/notes.txt", headers=[basic("ann", "secret")]), 403)

    def test_options_from_the_file(self):
        self.assertStatus(self.get("/nolist/"), 403)
        self.assertEqual(self.get("/nolist/a.txt").body, b"a\n")

    def test_a_broken_file_is_a_500_for_its_directory_only(self):
        watch = h.LogWatch(self.srv.alice.error_log)
        r = self.get("/broken/page.html")
        self.assertStatus(r, 500)
        self.assertNotIn(b"never served", r.body)
        text = self.log_text_with(watch, "BogusDirective")
        self.assertIn(f"{self.srv.alice.www}/broken/.htaccess:2: unknown directive BogusDirective", text)
        self.assertEqual(self.get("/edit/page.html").body, b"page\n")
        self.assertStatus(self.get("/", host="bob.test"), 200)

    def test_allow_override_decides_what_a_file_may_say(self):
        watch = h.LogWatch(self.srv.alice.error_log)
        self.assertStatus(self.get("/authonly/page.html"), 500)
        text = self.log_text_with(watch, "RewriteEngine not allowed here")
        self.assertRegex(text, rf"{self.srv.alice.www}/authonly/\.htaccess:1: RewriteEngine not allowed here: "
                               rf"it needs AllowOverride FileInfo, and the AllowOverride at \S+\.conf:\d+ does not")
        # Nonfatal=Override: the Require line is skipped (and said once), the rest applies.
        r = self.get("/lenient/")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"home page\n")
        self.log_text_with(watch, "Require not allowed here")

    def test_handlers_from_the_file_run_as_the_owner(self):
        r = self.get("/cgi/id.cgi")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, f"cgi uid={self.srv.alice.uid}\n".encode())
        r = self.get("/phpini/ini.php")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"memory_limit=77M\n")

    def test_the_file_cannot_lift_what_the_admin_fixed(self):
        # php_admin_value holds over the tenant's php_value, as in mod_php.
        r = self.get("/phpadmin/ini.php")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, f"open_basedir={self.srv.alice.home}\n".encode())

    def test_a_deeper_file_with_rules_replaces_its_parents_rules(self):
        self.assertEqual(self.get("/nested/old").body, b"new at top\n")
        self.assertEqual(self.get("/nested/sub/old").body, b"other in sub\n")

    def test_the_file_is_read_as_the_owner(self):
        # Root could read both; alice's worker can read neither: 403, and nothing of bob's
        # file in the answer or the log.
        watch = h.LogWatch(self.srv.alice.error_log)
        self.assertStatus(self.get("/rootfile/page.html"), 403)
        self.log_text_with(watch, "rootfile/.htaccess: can't read the access file (Permission denied)")
        r = self.get("/peek/page.html")
        self.assertStatus(r, 403)
        self.assertNotIn(b"secret", r.body)
        text = self.log_text_with(watch, "peek/.htaccess: can't check the access file (Permission denied)")
        self.assertNotIn("secret", text.replace("peek", ""))

    def test_redirects_error_pages_and_types_from_the_file(self):
        r = self.get("/moved/old.html")
        self.assertStatus(r, 301)
        self.assertEqual(r.header("location"), "http://alice.test/moved/new.html")
        r = self.get("/moved/post/42")
        self.assertStatus(r, 302)
        self.assertEqual(r.header("location"), "http://alice.test/moved/new.html?p=42")
        # The access rules are judged before a redirect, as Apache's fixups run after them.
        self.assertStatus(self.get("/moved/secret.html"), 403)
        r = self.get("/moved/gone.html")
        self.assertStatus(r, 404)
        self.assertEqual(r.body, b"custom not found\n")
        self.assertNotEqual(self.get("/edit/gone.html").body, b"custom not found\n")  # its directory only
        self.assertEqual(self.get("/moved/font.woff2").header("content-type"), "font/woff2")
        self.assertEqual(self.get("/moved/notes.txt").header("content-type"), "text/plain; charset=utf-8")
        self.assertEqual(self.get("/edit/page.html").header("content-type"), "text/html")

    def test_an_error_document_script_runs_with_the_errors_status(self):
        r = self.get("/errdoc/nothing?x=1")
        self.assertStatus(r, 404)
        self.assertEqual(r.body, f"custom 404 uri=/errdoc/nothing?x=1 redirect=/errdoc/nothing "
                                 f"euid={self.srv.alice.uid}\n".encode())
        r = self.get("/errdoc/closed.txt")
        self.assertStatus(r, 403)
        self.assertIn(b"custom 403", r.body)
        # Its source is never the page, HEAD included.
        r = self.get("/errdoc/nothing", method="HEAD")
        self.assertStatus(r, 404)
        self.assertEqual(r.body, b"")
        self.assertNotIn(b"hunter2", self.get("/errdoc/nothing").body)

    def test_setenvif_from_the_file_passes_credentials_on(self):
        r = self.get("/api/auth.php", headers=[("Authorization", "Bearer t0ken")])
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"auth=Bearer t0ken nokeep=-\n")
        # The directory's rules see the variable, as in Apache (SetEnvIf runs before them).
        self.assertEqual(self.get("/api/whoami", headers=[("Authorization", "Bearer t0ken")]).body,
                         b"auth=Bearer t0ken nokeep=-\n")
        self.assertStatus(self.get("/api/whoami"), 404)
        # Elsewhere the credentials stay away from scripts (CGIPassAuth Off).
        self.assertEqual(self.get("/phpini/ini.php", headers=[("Authorization", "Bearer t0ken")]).body,
                         b"memory_limit=77M\n")
        # BrowserMatch's nokeepalive closes the connection after the answer.
        with h.Conn(self.port) as c:
            r = c.request("GET", "/api/auth.php", host="alice.test", headers=[("User-Agent", "OldClient/1.0")])
            self.assertStatus(r, 200)
            self.assertEqual(r.header("connection"), "close")

    def test_a_file_cannot_send_requests_to_a_backend_not_its_owners(self):
        # Another tenant's php-fpm pool on a TCP port: no file permission would stop the
        # connection, so the file is refused before anything connects.
        backend = socket.socket()
        backend.bind(("127.0.0.1", 0))
        backend.listen(1)
        backend.settimeout(0.5)
        try:
            port = backend.getsockname()[1]
            self.srv.alice.write("steal/x.php", b"<?php echo 1;")
            self.srv.alice.write("steal/.htaccess", f'SetHandler "proxy:fcgi://127.0.0.1:{port}"\n'.encode())
            watch = h.LogWatch(self.srv.alice.error_log)
            self.assertStatus(self.get("/steal/x.php"), 500)
            self.log_text_with(watch, f"names the FastCGI backend 127.0.0.1:{port}, which the configuration "
                                      f"gives to no site of this owner")
            with self.assertRaises(socket.timeout):
                backend.accept()
        finally:
            backend.close()

    def test_allow_override_none_reads_nothing(self):
        self.assertStatus(self.get("/", host="bob.test"), 200)


class HtaccessConfigCheck(unittest.TestCase):
    """`itkd -t` says where .htaccess files are read."""

    def test_check_lists_where_files_are_read(self):
        srv = h.Server()
        try:
            path = os.path.join(srv.conf_dir, "ht.conf")
            with open(path, "w") as f:
                f.write(config(srv))
            rc, out, err = h.run_itkd(["-t", "-f", path])
            self.assertEqual(rc, 0, err)
            self.assertIn(f".htaccess in <Directory {srv.alice.www}>: All\n", out)
            self.assertIn(f".htaccess in <Directory {srv.alice.www}/authonly>: AuthConfig\n", out)
        finally:
            srv.cleanup()


if __name__ == "__main__":
    h.main()
