#!/usr/bin/env python3
"""Invariant 6: hostile and malformed requests get the RFC 9112 answer, a close and a log
line, and the server keeps serving everyone else."""

import os
import signal
import time
import unittest

import itkd_harness as h

LIMITS = ("LimitRequestLine 200\n"
          "LimitRequestFieldSize 200\n"
          "LimitRequestFields 10\n"
          "LimitRequestBody 1000\n"
          "RequestReadTimeout header=1\n")


COLD_UID = 61003


def setup(srv):
    # A site of a third owner that no other test asks for: its pool has no worker yet.
    www = os.path.join(srv.root, "cold", "www")
    os.makedirs(www)
    os.chmod(os.path.join(srv.root, "cold"), 0o755)
    with open(os.path.join(www, "index.html"), "wb") as f:
        f.write(b"cold\n")


def config(srv):
    cold = (f"<VirtualHost *:{srv.port}>\n  ServerName cold.test\n"
            f"  DocumentRoot {srv.root}/cold/www\n  AssignUserID #{COLD_UID} #{COLD_UID}\n</VirtualHost>\n")
    return h.standard_config(srv, global_extra=LIMITS) + cold


def req(*lines, body=b""):
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Hostile(h.ServerTestCase):
    config = config
    setup_tree = setup

    def refused(self, data, code, what):
        """Sends data on a fresh connection: expects `code`, a close, and a new error-log line."""
        watch = h.LogWatch(self.srv.error_log, self.srv.alice.error_log, self.srv.bob.error_log)
        resp, closed = h.raw_exchange(self.port, data)
        self.assertStatus(resp, code, what)
        self.assertTrue(closed, f"{what}: connection must be closed after {code}")
        conn_hdr = (resp.header("connection") or "").lower()
        self.assertIn("close", conn_hdr, f"{what}: response should say Connection: close")
        # The line names the client (Apache: "[client 127.0.0.1:port] reason").
        try:
            h.wait_for(lambda: "127.0.0.1" in watch.all_new(), timeout=3, what="error log line")
        except AssertionError:
            self.fail(f"{what}: no error log line naming the client for {code}; "
                      f"new log text: {watch.all_new()[-500:]!r}")
        return resp

    def tearDown(self):
        # After every refusal, ordinary requests still work.
        r = h.get(self.port, "/", host="bob.test")
        self.assertStatus(r, 200, "server stopped serving after a hostile request")
        self.assertEqual(r.body, h.BOB_INDEX)

    # ---- smuggling shapes -> 400
    def test_cl_and_te(self):
        self.refused(req("POST / HTTP/1.1", "Host: alice.test", "Content-Length: 5",
                         "Transfer-Encoding: chunked", body=b"0\r\n\r\n"), 400, "CL+TE")

    def test_duplicate_cl(self):
        self.refused(req("POST / HTTP/1.1", "Host: alice.test", "Content-Length: 5",
                         "Content-Length: 6", body=b"hello!"), 400, "duplicate CL")

    def test_duplicate_cl_same_value(self):
        # RFC 9112 6.3 allows a recipient to accept identical values; we refuse (strict).
        self.refused(req("POST / HTTP/1.1", "Host: alice.test", "Content-Length: 5",
                         "Content-Length: 5", body=b"hello"), 400, "duplicate identical CL")

    def test_cl_list(self):
        self.refused(req("POST / HTTP/1.1", "Host: alice.test", "Content-Length: 5, 5",
                         body=b"hello"), 400, "CL list")

    def test_cl_with_sign(self):
        self.refused(req("POST / HTTP/1.1", "Host: alice.test", "Content-Length: +5",
                         body=b"hello"), 400, "CL +5")
        self.refused(req("POST / HTTP/1.1", "Host: alice.test", "Content-Length: -1"),
                     400, "CL -1")

    def test_cl_not_a_number(self):
        self.refused(req("POST / HTTP/1.1", "Host: alice.test", "Content-Length: 0x10"),
                     400, "CL hex")

    def test_obs_fold(self):
        self.refused(req("GET / HTTP/1.1", "Host: alice.test", "X-A: one", " two"),
                     400, "obs-fold")

    def test_space_before_colon(self):
        self.refused(req("GET / HTTP/1.1", "Host: alice.test", "Content-Length : 0"),
                     400, "space before colon")

    def test_bare_cr(self):
        self.refused(b"GET / HTTP/1.1\r\nHost: alice.test\r\nX-A: a\rb\r\n\r\n", 400, "bare CR")

    def test_nul_in_field(self):
        self.refused(b"GET / HTTP/1.1\r\nHost: alice.test\r\nX-A: a\x00b\r\n\r\n", 400, "NUL")

    def test_invalid_field_name(self):
        self.refused(req("GET / HTTP/1.1", "Host: alice.test", "X(A): 1"), 400, "name with (")

    def test_duplicate_host(self):
        self.refused(req("GET / HTTP/1.1", "Host: alice.test", "Host: bob.test"),
                     400, "duplicate Host")

    def test_te_not_ending_in_chunked(self):
        self.refused(req("POST / HTTP/1.1", "Host: alice.test",
                         "Transfer-Encoding: chunked, gzip"), 400, "TE chunked, gzip")

    def test_te_chunked_twice(self):
        self.refused(req("POST / HTTP/1.1", "Host: alice.test",
                         "Transfer-Encoding: chunked, chunked", body=b"0\r\n\r\n"),
                     400, "TE chunked, chunked")

    def test_te_in_http10(self):
        self.refused(req("POST / HTTP/1.0", "Host: alice.test", "Transfer-Encoding: chunked",
                         body=b"0\r\n\r\n"), 400, "TE in HTTP/1.0")

    def test_unknown_coding_is_501(self):
        self.refused(req("POST / HTTP/1.1", "Host: alice.test",
                         "Transfer-Encoding: foo, chunked", body=b"0\r\n\r\n"), 501, "TE foo")

    def test_bad_chunk_size(self):
        # GET: the static handler must read (and discard) the body, so the decoder runs;
        # a POST may be answered 405 before its body is looked at.
        self.refused(req("GET / HTTP/1.1", "Host: alice.test", "Transfer-Encoding: chunked",
                         body=b"zz\r\nhello\r\n0\r\n\r\n"), 400, "chunk size zz")

    def test_chunk_size_overflow(self):
        data = req("GET / HTTP/1.1", "Host: alice.test", "Transfer-Encoding: chunked",
                   body=b"1" + b"0" * 20 + b"\r\nx\r\n0\r\n\r\n")
        resp, closed = h.raw_exchange(self.port, data)
        self.assertIsNotNone(resp)
        self.assertIn(resp.status, (400, 413))
        self.assertTrue(closed)

    def test_unknown_coding_alone(self):
        # RFC 9112 6.3: chunked not final -> 400 (MUST); 6.1: unknown coding -> 501 (SHOULD).
        data = req("POST / HTTP/1.1", "Host: alice.test", "Transfer-Encoding: xchunked")
        resp, closed = h.raw_exchange(self.port, data)
        self.assertIsNotNone(resp)
        self.assertIn(resp.status, (400, 501))
        self.assertTrue(closed)

    # ---- request line
    def test_target_not_origin_form(self):
        self.refused(req("GET index.html HTTP/1.1", "Host: alice.test"), 400, "relative target")

    def test_control_char_in_target(self):
        self.refused(b"GET /a\x01b HTTP/1.1\r\nHost: alice.test\r\n\r\n", 400, "CTL in target")

    def test_http2_version_is_505(self):
        self.refused(req("GET / HTTP/2.0", "Host: alice.test"), 505, "HTTP/2.0")

    def test_garbage_version_is_400(self):
        self.refused(req("GET / HTTP/1.x", "Host: alice.test"), 400, "HTTP/1.x")
        self.refused(req("GET / FOO", "Host: alice.test"), 400, "FOO")

    def test_bad_request_line(self):
        self.refused(req("GET  / HTTP/1.1", "Host: alice.test"), 400, "double space")
        self.refused(req("GET /", "Host: alice.test"), 400, "no version")

    def test_request_line_too_long_is_414(self):
        self.refused(req("GET /" + "a" * 400 + " HTTP/1.1", "Host: alice.test"), 414,
                     "request line > LimitRequestLine")

    def test_too_many_fields_is_431(self):
        fields = [f"X-F{i}: {i}" for i in range(20)]
        self.refused(req("GET / HTTP/1.1", "Host: alice.test", *fields), 431,
                     "fields > LimitRequestFields")

    def test_field_too_long_is_431(self):
        self.refused(req("GET / HTTP/1.1", "Host: alice.test", "X-Long: " + "b" * 400),
                     431, "field > LimitRequestFieldSize")

    def test_body_over_limit_is_413(self):
        self.refused(req("POST / HTTP/1.1", "Host: alice.test", "Content-Length: 5000",
                         body=b"x" * 5000), 413, "CL over LimitRequestBody")

    def test_chunked_body_over_limit_is_413(self):
        body = b"".join(b"100\r\n" + b"y" * 256 + b"\r\n" for _ in range(8)) + b"0\r\n\r\n"
        self.refused(req("GET / HTTP/1.1", "Host: alice.test", "Transfer-Encoding: chunked",
                         body=body), 413, "chunked over LimitRequestBody")

    # ---- time
    def test_slow_head_is_408(self):
        watch = h.LogWatch(self.srv.error_log, self.srv.alice.error_log)
        with h.Conn(self.port, timeout=6) as c:
            c.send(b"GET / HTTP/1.1\r\nHost: alice.test\r\n")
            t0 = time.monotonic()
            resp = c.read_response()
            elapsed = time.monotonic() - t0
            self.assertStatus(resp, 408)
            self.assertLess(elapsed, 4.0, "RequestReadTimeout header=1 not applied")
            self.assertGreater(elapsed, 0.5, "408 came before the timeout")
            self.assertTrue(c.closed_by_peer(3))
        h.wait_for(lambda: watch.all_new().strip(), timeout=3, what="408 log line")

    def test_no_worker_in_time_is_503(self):
        # The zygote that forks workers is stopped, so cold.test's pool can't get one: the
        # front answers 503 at the header timeout, counted from the accept, and logs why.
        zygotes = self.srv.zygotes()
        self.assertTrue(zygotes, "no zygote")
        watch = h.LogWatch(self.srv.error_log)
        for z in zygotes:
            os.kill(z, signal.SIGSTOP)  # itkd's own zygote, started by this test's server
        try:
            with h.Conn(self.port, timeout=6) as c:
                t0 = time.monotonic()
                c.send(b"GET / HTTP/1.1\r\nHost: cold.test\r\n\r\n")
                resp = c.read_response()
                elapsed = time.monotonic() - t0
            self.assertStatus(resp, 503)
            self.assertGreater(elapsed, 0.5, "503 came before the timeout")
            self.assertLess(elapsed, 4.0, "RequestReadTimeout header=1 not applied while waiting for a worker")
            h.wait_for(lambda: "no worker of the site's pool became available in time" in watch.all_new(),
                       timeout=3, what="503 log line")
        finally:
            for z in zygotes:
                try:
                    os.kill(z, signal.SIGCONT)
                except ProcessLookupError:
                    pass  # the master gave up on it after 2 s and will start another
        # Workers can start again: the site answers, and alice was never affected.
        h.wait_for(lambda: h.get(self.port, "/", host="cold.test").status == 200, timeout=20,
                   what="cold.test served once the zygote runs again")
        self.assertStatus(h.get(self.port, "/", host="alice.test"), 200)

    def test_silent_connection_closed(self):
        # A client that never sends a byte is dropped after the header timeout too.
        with h.Conn(self.port, timeout=6) as c:
            t0 = time.monotonic()
            self.assertTrue(c.closed_by_peer(4), "idle new connection not closed")
            self.assertLess(time.monotonic() - t0, 4.0)

    def test_many_refusals_in_a_row(self):
        for _ in range(30):
            resp, closed = h.raw_exchange(self.port, b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
            self.assertStatus(resp, 400)
            self.assertTrue(closed)

    def test_no_pipelined_smuggle_after_refusal(self):
        # The bytes after a refused request must never be parsed as a second request.
        data = (req("POST / HTTP/1.1", "Host: alice.test", "Content-Length: 5",
                    "Transfer-Encoding: chunked")
                + b"0\r\n\r\nGET /secret.txt HTTP/1.1\r\nHost: bob.test\r\n\r\n")
        with h.Conn(self.port) as c:
            c.send(data)
            r = c.read_response()
            self.assertStatus(r, 400)
            self.assertTrue(c.closed_by_peer(3))
            self.assertNotIn(b"BOB-SECRET", c.buf)


if __name__ == "__main__":
    h.main()
