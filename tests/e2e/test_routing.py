#!/usr/bin/env python3
"""Host routing, in the spirit of nginx-tests http_host.t, with Apache's vhost matching."""

import os
import unittest

import itkd_harness as h

FIRST = b"first vhost (default)\n"
P2 = b"second listener only\n"
IPVH = b"ip-specific vhost on 127.0.0.2\n"
STAR3 = b"wildcard-address vhost on the third listener\n"


def setup(srv):
    srv.alice.write("first/index.html", FIRST)
    srv.bob.write("p2/index.html", P2)
    srv.bob.write("ip/index.html", IPVH)
    srv.alice.write("star3/index.html", STAR3)


def config(srv):
    p1, p2, p3 = srv.ports
    a, b = srv.alice, srv.bob
    return (h.standard_config(srv, vhost_addr=f"*:{p1}").split("<VirtualHost", 1)[0]
            + f"Listen 127.0.0.1:{p2}\n"
            + f"Listen {p3}\n"
            + h.vhost_block(f"*:{p1}", "first.test", a, docroot=a.www + "/first")
            + h.vhost_block(f"*:{p1}", "alice.test", a,
                            aliases=("www.alice.test", "*.alice.example", "a?.alice.test"))
            + h.vhost_block(f"*:{p1}", "bob.test", b, aliases=("www.bob.test", "*.bob.example"))
            + h.vhost_block(f"*:{p2}", "p2.test", b, docroot=b.www + "/p2")
            + h.vhost_block(f"*:{p3}", "star3.test", a, docroot=a.www + "/star3")
            + h.vhost_block(f"127.0.0.2:{p3}", "ip.test", b, docroot=b.www + "/ip"))


class Routing(h.ServerTestCase):
    nports = 3
    config = config
    setup_tree = setup

    def body_for(self, host, port=None, path="/", addr="127.0.0.1", **kw):
        r = h.get(port or self.port, path, host=host, addr=addr, **kw)
        self.assertStatus(r, 200, f"Host {host!r}")
        return r.body

    def test_exact_name(self):
        self.assertEqual(self.body_for("alice.test"), h.ALICE_INDEX)
        self.assertEqual(self.body_for("bob.test"), h.BOB_INDEX)
        self.assertEqual(self.body_for("first.test"), FIRST)

    def test_alias(self):
        self.assertEqual(self.body_for("www.alice.test"), h.ALICE_INDEX)
        self.assertEqual(self.body_for("www.bob.test"), h.BOB_INDEX)

    def test_wildcard_alias(self):
        self.assertEqual(self.body_for("x.alice.example"), h.ALICE_INDEX)
        self.assertEqual(self.body_for("deep.sub.bob.example"), h.BOB_INDEX)
        self.assertEqual(self.body_for("a1.alice.test"), h.ALICE_INDEX)
        # '?' is one character, '*' does not match the bare suffix
        self.assertEqual(self.body_for("a12.alice.test"), FIRST)
        self.assertEqual(self.body_for("bob.example"), FIRST)

    def test_case_insensitive(self):
        self.assertEqual(self.body_for("BOB.TEST"), h.BOB_INDEX)
        self.assertEqual(self.body_for("Www.Bob.Test"), h.BOB_INDEX)
        self.assertEqual(self.body_for("X.BOB.EXAMPLE"), h.BOB_INDEX)

    def test_trailing_dot(self):
        self.assertEqual(self.body_for("bob.test."), h.BOB_INDEX)

    def test_port_in_host(self):
        self.assertEqual(self.body_for(f"bob.test:{self.port}"), h.BOB_INDEX)
        self.assertEqual(self.body_for("bob.test:1"), h.BOB_INDEX)
        self.assertEqual(self.body_for(f"BOB.test.:{self.port}"), h.BOB_INDEX)

    def test_unknown_host_gets_first_vhost(self):
        self.assertEqual(self.body_for("unknown.test"), FIRST)
        self.assertEqual(self.body_for("127.0.0.1"), FIRST)
        self.assertEqual(self.body_for(f"127.0.0.1:{self.port}"), FIRST)

    def test_absolute_form_wins_over_host(self):
        with h.Conn(self.port) as c:
            r = c.request("GET", "http://bob.test/", host="alice.test",
                          headers=[("Connection", "close")])
        self.assertStatus(r, 200)
        self.assertEqual(r.body, h.BOB_INDEX)

    def test_absolute_form_with_port_and_case(self):
        with h.Conn(self.port) as c:
            r = c.request("GET", f"http://BOB.test:{self.port}/index.html", host="alice.test",
                          headers=[("Connection", "close")])
        self.assertStatus(r, 200)
        self.assertEqual(r.body, h.BOB_INDEX)

    def test_missing_host_in_http11_is_400(self):
        resp, closed = h.raw_exchange(self.port, b"GET / HTTP/1.1\r\n\r\n")
        self.assertStatus(resp, 400)
        self.assertTrue(closed)

    def test_empty_host_in_http11(self):
        # RFC 9112 3.2: an empty Host is allowed only when the target has no authority;
        # Apache serves the default vhost. Either way it must not pick alice or bob.
        resp, _ = h.raw_exchange(self.port, b"GET / HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n")
        self.assertIsNotNone(resp)
        if resp.status == 200:
            self.assertEqual(resp.body, FIRST)
        else:
            self.assertEqual(resp.status, 400)

    def test_invalid_host_is_400(self):
        for host in ("bob.test/x", "../bob", "bob test", "bob.test:ab", "[bob.test"):
            with self.subTest(host=host):
                resp, closed = h.raw_exchange(
                    self.port, f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                self.assertStatus(resp, 400, f"Host {host!r}")
                self.assertTrue(closed)

    def test_http10_without_host_gets_default(self):
        resp, closed = h.raw_exchange(self.port, b"GET / HTTP/1.0\r\n\r\n")
        self.assertStatus(resp, 200)
        self.assertEqual(resp.body, FIRST)
        self.assertTrue(closed, "HTTP/1.0 without keep-alive must close")

    def test_http10_with_host(self):
        resp, _ = h.raw_exchange(self.port, b"GET / HTTP/1.0\r\nHost: bob.test\r\n\r\n")
        self.assertStatus(resp, 200)
        self.assertEqual(resp.body, h.BOB_INDEX)
        # Apache and nginx answer an HTTP/1.0 request with their own version, HTTP/1.1
        # (RFC 9110 2.5), and without chunks.
        self.assertEqual(resp.version, "HTTP/1.1")
        self.assertIsNone(resp.header("Transfer-Encoding"))

    def test_http10_error_answered_by_the_front_says_http11(self):
        resp, closed = h.raw_exchange(self.port, b"GET / HTTP/1.0\r\nHost: bob.test\r\nHost: x\r\n\r\n")
        self.assertStatus(resp, 400)
        self.assertEqual(resp.version, "HTTP/1.1")
        self.assertTrue(closed)

    def test_second_listener_has_its_own_vhosts(self):
        p2 = self.srv.ports[1]
        self.assertEqual(self.body_for("p2.test", port=p2), P2)
        # alice.test is not a vhost of that address: the address's default answers
        self.assertEqual(self.body_for("alice.test", port=p2), P2)
        self.assertEqual(self.body_for("p2.test"), FIRST)

    def test_ip_specific_vhost(self):
        p3 = self.srv.ports[2]
        self.assertEqual(self.body_for("alice.test", port=p3, addr="127.0.0.2"), IPVH)
        self.assertEqual(self.body_for("ip.test", port=p3, addr="127.0.0.2"), IPVH)
        self.assertEqual(self.body_for("star3.test", port=p3, addr="127.0.0.1"), STAR3)
        self.assertEqual(self.body_for("ip.test", port=p3, addr="127.0.0.1"), STAR3)

    def test_curl_resolve(self):
        rc, out, err = h.curl(["--resolve", f"bob.test:{self.port}:127.0.0.1",
                               f"http://bob.test:{self.port}/"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, h.BOB_INDEX)


if __name__ == "__main__":
    h.main()
