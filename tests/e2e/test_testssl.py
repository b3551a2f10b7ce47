#!/usr/bin/env python3
"""testssl.sh (Debian's package) against one TLS vhost of a running itkd (issue 4): no
HIGH or CRITICAL finding. The test CA is not trusted by testssl, which it reports as a
certificate-chain finding; only protocol, cipher and vulnerability checks are run (-p -s -U),
so that does not count. Kept apart from test_tls.py: it takes about a minute."""

import json
import os
import subprocess
import unittest

import itkd_harness as h
from test_tls import TlsBase


class TestSsl(TlsBase):
    def test_no_high_or_critical_findings(self):
        tool = h.require_tool("testssl")
        report = os.path.join(self.srv.root, "testssl.json")
        cmd = [tool, "--quiet", "--color", "0", "--warnings", "off", "--jsonfile", report,
               "--ip", "127.0.0.1", "-p", "-s", "-U", f"alice.test:{self.port}"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
        self.assertTrue(os.path.exists(report), f"testssl wrote no report: {p.stdout[-2000:]} {p.stderr[-2000:]}")
        with open(report) as f:
            findings = json.load(f)
        ids = {x["id"] for x in findings}
        # The run really happened: protocols and the classic vulnerabilities were checked.
        for needed in ("TLS1", "TLS1_1", "TLS1_2", "TLS1_3", "heartbleed", "ROBOT", "SWEET32"):
            self.assertIn(needed, ids, f"testssl did not check {needed}")
        bad = [(x["id"], x["severity"], x["finding"]) for x in findings
               if x["severity"] in ("HIGH", "CRITICAL")]
        self.assertEqual(bad, [], "testssl found problems")
        offered = {x["id"]: x["finding"] for x in findings}
        self.assertIn("not offered", offered["TLS1"])
        self.assertIn("not offered", offered["TLS1_1"])


if __name__ == "__main__":
    h.main()
