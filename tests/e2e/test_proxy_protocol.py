#!/usr/bin/env python3
"""PROXY protocol (mod_remoteip's RemoteIPProxyProtocol): behind a load balancer, logs,
`Require ip` and REMOTE_ADDR see the client the balancer names, on plain and TLS
listeners; a connection without a valid header is closed with a log line, and the
server keeps serving.
"""

import os
import re
import socket
import ssl
import struct
import time
import unittest

import itkd_harness as h
import test_tls

CGI_ADDR = (b'#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\n'
            b'echo "$REMOTE_ADDR $REMOTE_PORT $HTTPS"\n')


def setup(srv):
    test_tls.make_pki(srv)
    for t in (srv.alice, srv.bob):
        t.write("cgi/addr.cgi", CGI_ADDR, mode=0o755)
    srv.alice.write("office/index.html", b"office only\n")


def cgi(t):
    return (f"  AddHandler cgi-script .cgi\n"
            f"  <Directory {t.www}/cgi>\n    Options +ExecCGI\n  </Directory>\n")


def config(srv):
    a, b = srv.alice, srv.bob
    plain, tls = srv.ports
    office = f"  <Directory {a.www}/office>\n    Require ip 203.0.113.0/24\n  </Directory>\n"
    text = h.standard_config(srv, global_extra=(f"Listen 127.0.0.1:{tls}\n"
                                                "RemoteIPProxyProtocol On\n"
                                                "RemoteIPProxyProtocolExceptions 127.0.0.2\n"),
                             alice_extra=cgi(a) + office,
                             bob_extra=cgi(b) + ("  RemoteIPHeader X-Forwarded-For\n"
                                                 "  RemoteIPInternalProxy 127.0.0.2\n"),
                             vhost_addr=f"*:{plain}")
    return text + h.vhost_block(f"*:{tls}", "alice.test", a,
                                extra=test_tls.tls_vhost(a) + cgi(a))


def v1(src="203.0.113.7", sport=56324, family="TCP4", dst="192.0.2.1", dport=443):
    return f"PROXY {family} {src} {dst} {sport} {dport}\r\n".encode()


def v2(command=1, src6=None, src4=None, sport=0):
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    if src6:
        addrs = (socket.inet_pton(socket.AF_INET6, src6) + socket.inet_pton(socket.AF_INET6, "2001:db8::1")
                 + struct.pack("!HH", sport, 443))
        fam = 0x21
    elif src4:
        addrs = socket.inet_aton(src4) + socket.inet_aton("192.0.2.1") + struct.pack("!HH", sport, 443)
        fam = 0x11
    else:
        addrs, fam = b"", 0x00
    tlv = b"\x01\x00\x02h2"  # an ALPN TLV, as balancers add
    body = addrs + tlv
    return sig + bytes([0x20 | command, fam]) + struct.pack("!H", len(body)) + body


def request(host, path):
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


class ProxyProtocol(h.ServerTestCase):
    config = config
    setup_tree = setup
    nports = 2

    def exchange(self, data, source=None, chunks=None):
        """Sends `data` (or `chunks`, one at a time) on a new connection; the response."""
        with h.Conn(self.port, source=source) as c:
            for part in (chunks or [data]):
                c.send(part)
                time.sleep(0.05 if chunks else 0)
            try:
                return c.read_response()
            except (h.ProtocolError, ConnectionError, OSError):
                return None

    def test_v1_address_reaches_scripts_and_the_log(self):
        r = self.exchange(v1() + request("alice.test", "/cgi/addr.cgi"))
        self.assertStatus(r, 200)
        self.assertEqual(r.body.split()[:2], [b"203.0.113.7", b"56324"])
        h.wait_for(lambda: re.search(r"^203\.0\.113\.7 .*\"GET /cgi/addr\.cgi ",
                                     h.read_text(self.srv.alice.access_log), re.M),
                   what="the balancer's client in alice's access log")

    def test_v2_ipv6_with_tlvs(self):
        r = self.exchange(v2(src6="2001:db8::7", sport=4711) + request("alice.test", "/cgi/addr.cgi"))
        self.assertStatus(r, 200)
        self.assertEqual(r.body.split()[:2], [b"2001:db8::7", b"4711"])

    def test_v2_local_keeps_the_connection_address(self):
        r = self.exchange(v2(command=0) + request("alice.test", "/cgi/addr.cgi"))
        self.assertStatus(r, 200)
        self.assertEqual(r.body.split()[0], b"127.0.0.1")

    def test_require_ip_sees_the_named_client(self):
        self.assertStatus(self.exchange(v1(src="203.0.113.9") + request("alice.test", "/office/")), 200)
        self.assertStatus(self.exchange(v1(src="198.51.100.1") + request("alice.test", "/office/")), 403)

    def test_header_in_pieces(self):
        data = v1() + request("alice.test", "/cgi/addr.cgi")
        r = self.exchange(None, chunks=[data[:9], data[9:30], data[30:]])
        self.assertStatus(r, 200)
        self.assertEqual(r.body.split()[0], b"203.0.113.7")

    def test_address_survives_a_switch_of_owner(self):
        # One balancer connection, alice's request then bob's: the socket goes back to
        # the front and on to bob's worker, with the client's address.
        with h.Conn(self.port) as c:
            c.send(v1(src="203.0.113.50"))
            r1 = c.request("GET", "/cgi/addr.cgi", host="alice.test")
            r2 = c.request("GET", "/cgi/addr.cgi", host="bob.test")
        self.assertEqual(r1.body.split()[0], b"203.0.113.50")
        self.assertStatus(r2, 200)
        self.assertEqual(r2.body.split()[0], b"203.0.113.50")

    def test_missing_or_broken_header_closes_with_a_log_line(self):
        log = h.LogWatch(self.srv.error_log)
        self.assertIsNone(self.exchange(request("alice.test", "/")))
        self.assertIsNone(self.exchange(b"PROXY TCP4 203.0.113.7 192.0.2.1 99999 443\r\n" + request("alice.test", "/")))
        self.assertIsNone(self.exchange(v2(src4="203.0.113.7")[:13] + b"\x09" + v2(src4="203.0.113.7")[14:]))
        text = h.wait_for(lambda: (lambda t: t if t.count("RemoteIPProxyProtocol:") >= 3 else None)(
            log.new_text(self.srv.error_log)), what="three RemoteIPProxyProtocol lines")
        self.assertIn("no PROXY header (the connection must start with one); connection closed", text)
        self.assertIn("PROXY v1 line with an invalid address or port", text)
        self.assertIn("address family/transport 0x09", text)
        # Everyone else is still served.
        self.assertStatus(self.exchange(v1() + request("bob.test", "/")), 200)

    def test_exception_needs_no_header(self):
        r = self.exchange(request("alice.test", "/cgi/addr.cgi"), source="127.0.0.2")
        self.assertStatus(r, 200)
        self.assertEqual(r.body.split()[0], b"127.0.0.2")

    def test_forwarded_for_from_a_listed_proxy_only(self):
        # 127.0.0.2 (a PROXY exception) is bob's RemoteIPInternalProxy: its header counts.
        xff = ("X-Forwarded-For", "1.2.3.4, 198.51.100.23")
        with h.Conn(self.port, source="127.0.0.2") as c:
            r = c.request("GET", "/cgi/addr.cgi", host="bob.test", headers=[xff])
            # The next request on the connection, without the header, is the proxy's again.
            r2 = c.request("GET", "/cgi/addr.cgi", host="bob.test")
        self.assertEqual(r.body.split()[0], b"198.51.100.23")
        self.assertEqual(r2.body.split()[0], b"127.0.0.2")
        h.wait_for(lambda: re.search(r"^198\.51\.100\.23 .*\"GET /cgi/addr\.cgi ",
                                     h.read_text(self.srv.bob.access_log), re.M),
                   what="the forwarded client in bob's access log")
        # A client behind the balancer, not a listed proxy, writing the header itself.
        r = self.exchange(v1(src="203.0.113.60") + b"GET /cgi/addr.cgi HTTP/1.1\r\nHost: bob.test\r\n"
                          b"X-Forwarded-For: 127.0.0.1\r\n\r\n")
        self.assertEqual(r.body.split()[0], b"203.0.113.60")

    def test_tls_after_the_header(self):
        ctx = test_tls.client_ctx(self.srv.ca)
        raw = socket.create_connection(("127.0.0.1", self.srv.ports[1]), timeout=5)
        try:
            raw.sendall(v1(src="203.0.113.77", sport=1234))
            with ctx.wrap_socket(raw, server_hostname="alice.test") as s:
                s.sendall(b"GET /cgi/addr.cgi HTTP/1.1\r\nHost: alice.test\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        finally:
            raw.close()
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:200])
        self.assertIn(b"203.0.113.77 1234 on", data)

    def test_check_describes_it(self):
        rc, out, err = h.run_itkd(["-t", "-f", self.srv.conf])
        self.assertEqual(rc, 0, err)
        self.assertIn(f"Listen 127.0.0.1:{self.srv.ports[0]} (http, PROXY header required except from 127.0.0.2/32)", out)


if __name__ == "__main__":
    h.main()
