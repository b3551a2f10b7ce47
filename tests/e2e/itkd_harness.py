"""Shared harness for the itkd end-to-end tests (Python 3 stdlib only).

Starts the real `itkd` as root in a temporary tree with two tenants (alice #61001 and
bob #61002), talks HTTP/1.1 to it over raw sockets, and inspects its processes through
/proc. Every process the harness starts is stopped by pid; nothing is killed by name.

Run a module standalone:  python3 test_x.py [--binary /path/to/itkd] [-v] [Class.test]
The binary comes from --binary, else $ITKD_BINARY (set by CTest).
"""

import errno
import os
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest

ALICE_UID = 61001
BOB_UID = 61002
FRONT_UID = 61900
MAIN_UID = 61950  # User/Group of the main server (vhosts without AssignUserID)
READY_LINE = "resuming normal operations"

ALICE_INDEX = b"<html><body>alice index page ALICE-MARKER</body></html>\n"
BOB_INDEX = b"<html><body>bob index page BOB-MARKER</body></html>\n"
BOB_SECRET = b"BOB-SECRET-7f3a9c do not show to alice\n"
ALICE_PRIVATE = b"ALICE-PRIVATE-outside-docroot\n"

COMBINED = '"%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\""'
WITH_PID = '"%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" pid=%P"'


# ---------------------------------------------------------------------------- binary

def _take_binary_arg():
    """Removes --binary X / --binary=X from sys.argv (so unittest doesn't see it)."""
    argv = sys.argv
    for i, a in enumerate(list(argv)):
        if a == "--binary" and i + 1 < len(argv):
            os.environ["ITKD_BINARY"] = argv[i + 1]
            del argv[i:i + 2]
            return
        if a.startswith("--binary="):
            os.environ["ITKD_BINARY"] = a.split("=", 1)[1]
            del argv[i]
            return


def binary():
    path = os.environ.get("ITKD_BINARY")
    if not path:
        raise unittest.SkipTest("no itkd binary: pass --binary PATH or set ITKD_BINARY")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"ITKD_BINARY={path} is not an executable file; build target itkd first")
    return path


def main():
    """Entry point of every test module: verbose by default, non-zero exit on failure."""
    _take_binary_arg()
    if os.geteuid() != 0:
        print("the itkd e2e tests must run as root (they start the master and check uids)",
              file=sys.stderr)
        sys.exit(2)
    unittest.main(module="__main__", verbosity=2)


# ---------------------------------------------------------------------------- ports

def free_port(host="127.0.0.1"):
    """A port that was free a moment ago on host ('' = all addresses)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_is_free(port, host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


# ---------------------------------------------------------------------------- /proc

def _stat_fields(pid):
    """(state, ppid, starttime) from /proc/PID/stat, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("latin-1")
    except OSError:
        return None
    rest = data.rsplit(")", 1)[1].split()
    # rest[0] = state, rest[1] = ppid, rest[19] = starttime
    return rest[0], int(rest[1]), int(rest[19])


def age_seconds(pid):
    """How long ago the process started (from /proc/PID/stat and /proc/uptime)."""
    st = _stat_fields(pid)
    if st is None:
        return None
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    return uptime - st[2] / os.sysconf("SC_CLK_TCK")


def alive(pid):
    st = _stat_fields(pid)
    return st is not None and st[0] not in ("Z", "X")


def children(pid):
    """Pids whose parent is pid (zombies excluded)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = _stat_fields(int(name))
        if st and st[1] == pid and st[0] not in ("Z", "X"):
            out.append(int(name))
    return sorted(out)


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        for c in children(todo.pop()):
            out.append(c)
            todo.append(c)
    return sorted(out)


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def status(pid):
    """/proc/PID/status as a dict of str -> str (values stripped, tabs -> single space)."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = " ".join(v.split())
    return out


def fds(pid):
    """{fd: readlink target} of the process's open fds."""
    out = {}
    base = f"/proc/{pid}/fd"
    for name in os.listdir(base):
        try:
            out[int(name)] = os.readlink(f"{base}/{name}")
        except OSError:
            pass
    return out


def regular_file_fds(pid):
    """Targets of the fds that are regular files (by stat through /proc)."""
    out = []
    for fd, target in fds(pid).items():
        try:
            st = os.stat(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            out.append(target)
    return out


def tcp_socket_states():
    """{socket inode: TCP state hex ('0A' = LISTEN, '01' = ESTABLISHED)} from /proc/net."""
    out = {}
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    out[int(parts[9])] = parts[3]
        except OSError:
            pass
    return out


def proc_root(pid):
    return os.readlink(f"/proc/{pid}/root")


def environ(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        return [e.decode("utf-8", "replace") for e in f.read().split(b"\0") if e]


def non_dumpable(pid):
    """A non-dumpable process's /proc/PID entries are owned by root (kernel task_dump_owner).
    Only meaningful for a process whose uid is not 0."""
    return os.stat(f"/proc/{pid}/status").st_uid == 0


def role_of(pid):
    """('front', None) / ('worker', pool) / ('zygote', None) / (None, None) from the child's argv."""
    args = cmdline(pid)
    role, pool = None, None
    for a in args:
        if a.startswith("--role="):
            role = a.split("=", 1)[1]
        elif a.startswith("--pool="):
            pool = int(a.split("=", 1)[1])
    return role, pool


def uid_of(pid):
    try:
        return int(status(pid)["Uid"].split()[0])
    except (OSError, KeyError):
        return None


# ---------------------------------------------------------------------------- HTTP client

class Response:
    def __init__(self, version, status, reason, headers, body, raw_head):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value) as received
        self.body = body
        self.raw_head = raw_head

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def __repr__(self):
        return f"<Response {self.status} {self.reason!r} {len(self.body)} bytes>"


class ProtocolError(Exception):
    pass


class Conn:
    """One client connection with a read buffer (so pipelined responses are split right)."""

    def __init__(self, port, addr="127.0.0.1", timeout=5.0, source=None):
        # source: the client's own address, e.g. "127.0.0.2" (all of 127/8 is this machine),
        # for Require ip and Allow/Deny rules.
        self.sock = socket.create_connection((addr, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.buf = b""
        self.eof = False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def _fill(self):
        if self.eof:
            return False
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _read_until(self, marker, limit=1 << 20):
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise ProtocolError("response head too long")
            if not self._fill():
                raise ProtocolError(f"connection closed before {marker!r}; got {self.buf[:200]!r}")
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def _read_exact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise ProtocolError(f"connection closed after {len(self.buf)} of {n} body bytes")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response(self, method="GET"):
        head = self._read_until(b"\r\n\r\n")
        lines = head[:-4].decode("latin-1").split("\r\n")
        m = re.match(r"^(HTTP/\d\.\d) (\d{3})(?: (.*))?$", lines[0])
        if not m:
            raise ProtocolError(f"bad status line {lines[0]!r}")
        headers = []
        for line in lines[1:]:
            k, sep, v = line.partition(":")
            if not sep:
                raise ProtocolError(f"bad header line {line!r}")
            headers.append((k, v.strip()))
        resp = Response(m.group(1), int(m.group(2)), m.group(3) or "", headers, b"", head)
        if method == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200:
            return resp
        te = resp.header("transfer-encoding")
        cl = resp.header("content-length")
        if te is not None and te.lower().endswith("chunked"):
            body = b""
            while True:
                size_line = self._read_until(b"\r\n").strip()
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    while self._read_until(b"\r\n") != b"\r\n":
                        pass  # trailer fields, up to the empty line
                    break
                body += self._read_exact(size)
                self._read_exact(2)
            resp.body = body
        elif cl is not None:
            resp.body = self._read_exact(int(cl))
        else:
            while self._fill():
                pass
            resp.body, self.buf = self.buf, b""
        return resp

    def request(self, method, target, host=None, headers=(), body=None, version="HTTP/1.1",
                read=True):
        lines = [f"{method} {target} {version}"]
        if host is not None:
            lines.append(f"Host: {host}")
        for k, v in headers:
            lines.append(f"{k}: {v}")
        if body is not None and not any(k.lower() in ("content-length", "transfer-encoding")
                                        for k, _ in headers):
            lines.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
        self.send(data)
        if read:
            return self.read_response(method)
        return None

    def closed_by_peer(self, timeout=3.0):
        """True if the server closes the connection within timeout (buffered bytes ignored)."""
        if self.eof:
            return True
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                try:
                    chunk = self.sock.recv(65536)
                except ConnectionResetError:
                    return True
                if not chunk:
                    self.eof = True
                    return True
                self.buf += chunk
        except socket.timeout:
            return False
        return False


def get(port, path="/", host="alice.test", headers=(), method="GET", addr="127.0.0.1",
        version="HTTP/1.1", source=None):
    """One request on a fresh connection with Connection: close."""
    with Conn(port, addr, source=source) as c:
        return c.request(method, path, host=host, headers=list(headers) + [("Connection", "close")],
                         version=version)


def raw_exchange(port, data, timeout=5.0, addr="127.0.0.1"):
    """Sends raw bytes, reads one response; returns (response or None, closed_after)."""
    with Conn(port, addr, timeout=timeout) as c:
        c.send(data)
        try:
            resp = c.read_response()
        except (ProtocolError, socket.timeout):
            return None, True
        return resp, c.closed_by_peer(timeout=3.0)


def curl(args, timeout=20):
    """Runs curl; returns (returncode, stdout bytes, stderr text)."""
    p = subprocess.run(["curl", "-sS"] + list(args), capture_output=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


# ---------------------------------------------------------------------------- waiting

def wait_for(predicate, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


class LogWatch:
    """Remembers the sizes of log files so a test can read only what was written after."""

    def __init__(self, *paths):
        self.start = {p: (os.path.getsize(p) if os.path.exists(p) else 0) for p in paths}

    def new_text(self, path):
        try:
            with open(path, "rb") as f:
                f.seek(self.start.get(path, 0))
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def all_new(self):
        return "".join(self.new_text(p) for p in self.start)

    def wait_lines(self, path, n=1, timeout=5.0):
        return wait_for(lambda: (lambda t: t if t.count("\n") >= n else None)(self.new_text(path)),
                        timeout=timeout, what=f"{n} new line(s) in {path}")


# ---------------------------------------------------------------------------- the tree

def _write(path, data, uid=0, gid=0, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def _mkdir(path, uid=0, gid=0, mode=0o755):
    os.makedirs(path, exist_ok=True)
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def pattern_bytes(n, seed):
    rnd = random.Random(seed)
    return bytes(rnd.getrandbits(8) for _ in range(n))


class Tenant:
    """A tenant's home <root>/<name> (0750, owned by it) with www/ and its files."""

    def __init__(self, root, name, uid, index):
        self.name = name
        self.uid = uid
        self.home = os.path.join(root, name)
        self.www = os.path.join(self.home, "www")
        self.access_log = os.path.join(root, "logs", f"{name}.access.log")
        self.error_log = os.path.join(root, "logs", f"{name}.error.log")
        self.small = pattern_bytes(1024, uid)
        self.medium = pattern_bytes(100 * 1024, uid + 1)
        _mkdir(self.home, uid, uid, 0o750)
        _mkdir(self.www, uid, uid, 0o755)
        self.write("index.html", index)
        self.write("1k.bin", self.small)
        self.write("100k.bin", self.medium)

    def write(self, rel, data, mode=0o644, uid=None):
        """Writes www/rel (directories created, owned by the tenant)."""
        path = os.path.join(self.www, rel)
        d = os.path.dirname(path)
        parts = os.path.relpath(d, self.www).split(os.sep)
        cur = self.www
        for p in parts:
            if p in (".", ""):
                continue
            cur = os.path.join(cur, p)
            if not os.path.isdir(cur):
                _mkdir(cur, self.uid, self.uid, 0o755)
        owner = self.uid if uid is None else uid
        _write(path, data, owner, owner, mode)
        return path

    def mkdir(self, rel, mode=0o755):
        path = os.path.join(self.www, rel)
        _mkdir(path, self.uid, self.uid, mode)
        return path

    def home_write(self, rel, data, mode=0o644):
        """Writes <home>/rel, outside the docroot (directories owned by the tenant)."""
        path = os.path.join(self.home, rel)
        d = os.path.dirname(path)
        if not os.path.isdir(d):
            _mkdir(d, self.uid, self.uid, 0o755)
        _write(path, data, self.uid, self.uid, mode)
        return path


def vhost_block(addr, name, tenant, aliases=(), extra="", docroot=None, log_format="combined"):
    docroot = docroot or tenant.www
    alias_line = f"  ServerAlias {' '.join(aliases)}\n" if aliases else ""
    return (f"<VirtualHost {addr}>\n"
            f"  ServerName {name}\n{alias_line}"
            f"  DocumentRoot {docroot}\n"
            f"  AssignUserID #{tenant.uid} #{tenant.uid}\n"
            f"  CustomLog {tenant.access_log} {log_format}\n"
            f"  ErrorLog {tenant.error_log}\n"
            f"{extra}"
            f"</VirtualHost>\n")


class Server:
    """A running itkd in a temporary tree. Use as a context manager, or start()/stop().

    config: a function (server) -> the configuration text, called after the tree and ports
    exist, so it can use server.root, server.port, server.ports, server.alice, server.bob.
    setup: an optional function (server) run before the config is written (extra files).
    """

    def __init__(self, config=None, setup=None, nports=1, env=None, args=(), ready=True,
                 tree_dir="/tmp"):
        # tree_dir: where the temporary tree goes. /tmp is one of the paths every owner may
        # use under OwnerConfinement; a test of the confinement itself needs another place.
        self.root = tempfile.mkdtemp(prefix="itkd-e2e-", dir=tree_dir)
        os.chmod(self.root, 0o755)
        self.logs = os.path.join(self.root, "logs")
        _mkdir(self.logs)
        self.chroot = os.path.join(self.root, "empty")
        _mkdir(self.chroot)
        self.conf_dir = os.path.join(self.root, "conf")
        _mkdir(self.conf_dir)
        self.conf = os.path.join(self.conf_dir, "itkd.conf")
        self.error_log = os.path.join(self.logs, "error.log")
        self.pid_file = os.path.join(self.logs, "itkd.pid")
        self.main_www = os.path.join(self.root, "main-www")
        _mkdir(self.main_www)
        _write(os.path.join(self.main_www, "index.html"), b"main server\n")
        self.alice = Tenant(self.root, "alice", ALICE_UID, ALICE_INDEX)
        self.bob = Tenant(self.root, "bob", BOB_UID, BOB_INDEX)
        self.bob.write("secret.txt", BOB_SECRET, mode=0o640)
        self.ports = [free_port() for _ in range(nports)]
        self.port = self.ports[0]
        self.config_fn = config or standard_config
        self.setup = setup
        self.env = env
        self.args = list(args)
        self.wait_ready = ready
        self.proc = None
        self.seen = {}  # pid -> starttime of every child of the master we ever saw
        self.stdout_path = os.path.join(self.root, "master.stdout")
        self.stderr_path = os.path.join(self.root, "master.stderr")

    # -- lifecycle
    def write_config(self, text=None):
        text = text if text is not None else self.config_fn(self)
        with open(self.conf, "w") as f:
            f.write(text)
        return text

    def start(self):
        if self.setup:
            self.setup(self)
        self.write_config()
        env = dict(self.env) if self.env is not None else {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen([binary()] + self.args + ["-f", self.conf],
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         env=env, close_fds=True)
        if self.wait_ready:
            try:
                self.wait_until_ready()
            except BaseException:
                self.stop()
                raise
        return self

    def wait_until_ready(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if READY_LINE in read_text(self.error_log):
                self.refresh_children()
                return
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"itkd exited with {self.proc.returncode} before ready; "
                    f"stderr: {read_text(self.stderr_path)[-2000:]!r} "
                    f"error log: {read_text(self.error_log)[-2000:]!r}")
            time.sleep(0.05)
        raise AssertionError(
            f"itkd did not log {READY_LINE!r} within {timeout}s; "
            f"stderr: {read_text(self.stderr_path)[-2000:]!r} "
            f"error log: {read_text(self.error_log)[-2000:]!r}")

    @property
    def pid(self):
        return self.proc.pid

    def refresh_children(self):
        kids = children(self.pid) if self.proc and self.proc.poll() is None else []
        for k in kids:
            st = _stat_fields(k)
            if st:
                self.seen.setdefault(k, st[2])
        return kids

    def _ours(self, pid):
        st = _stat_fields(pid)
        return st is not None and st[0] not in ("Z", "X") and st[2] == self.seen.get(pid)

    def stop(self, timeout=10.0):
        """SIGTERM the master, wait, then SIGKILL it and every leftover child we saw."""
        if self.proc is None:
            return None
        self.refresh_children()
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in list(self.seen):
            deadline = time.monotonic() + 2.0
            while self._ours(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if self._ours(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                deadline = time.monotonic() + 2.0
                while self._ours(pid) and time.monotonic() < deadline:
                    time.sleep(0.02)
        rc = self.proc.returncode
        return rc

    def cleanup(self):
        self.stop()
        if os.environ.get("ITKD_KEEP_TREE"):
            print(f"kept {self.root}", file=sys.stderr)
            return
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc):
        self.cleanup()

    # -- processes
    def fronts(self):
        return [p for p in self.refresh_children() if role_of(p)[0] == "front"]

    def zygotes(self):
        """Pids of the master's zygote children (one per live configuration generation)."""
        return [p for p in self.refresh_children() if role_of(p)[0] == "zygote"]

    def workers(self):
        """{pid: pool} of the master's worker children."""
        return {p: role_of(p)[1] for p in self.refresh_children() if role_of(p)[0] == "worker"}

    def workers_with_uid(self, uid):
        return sorted(p for p in self.workers() if uid_of(p) == uid)

    def wait_worker(self, uid, timeout=5.0):
        return wait_for(lambda: self.workers_with_uid(uid), timeout=timeout,
                        what=f"a worker with uid {uid}")

    def describe(self):
        """Text to add to assertion messages."""
        return (f"\n--- error log tail:\n{read_text(self.error_log)[-1500:]}"
                f"\n--- master stderr tail:\n{read_text(self.stderr_path)[-800:]}")


def standard_config(srv, global_extra="", alice_extra="", bob_extra="", log_format="combined",
                    vhost_addr=None):
    """Two tenants on one listener; alice's vhost comes first (the default)."""
    addr = vhost_addr or f"*:{srv.port}"
    return (f"ServerRoot {srv.root}\n"
            f"Listen 127.0.0.1:{srv.port}\n"
            f"User #{MAIN_UID}\nGroup #{MAIN_UID}\n"
            f"FrontUser #{FRONT_UID}\nFrontGroup #{FRONT_UID}\n"
            f"FrontChroot {srv.chroot}\n"
            f"FrontProcesses 2\n"
            f"PoolMaxWorkers 2\n"
            f"PidFile {srv.pid_file}\n"
            f"ErrorLog {srv.error_log}\n"
            f"LogLevel info\n"
            f"LogFormat {COMBINED} combined\n"
            f"LogFormat {WITH_PID} withpid\n"
            f"DocumentRoot {srv.main_www}\n"
            f"{global_extra}\n"
            + vhost_block(addr, "alice.test", srv.alice, aliases=("www.alice.test",),
                          extra=alice_extra, log_format=log_format)
            + vhost_block(addr, "bob.test", srv.bob, aliases=("www.bob.test",),
                          extra=bob_extra, log_format=log_format))


def run_itkd(args, timeout=20, env=None):
    """Runs `itkd ARGS` to completion: (returncode, stdout, stderr)."""
    p = subprocess.run([binary()] + list(args), capture_output=True, timeout=timeout,
                       env=env or {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


class ServerTestCase(unittest.TestCase):
    """One Server per class: subclasses set `config` (and optionally `setup`, `env`)."""

    config = None
    setup_tree = None
    server_env = None
    server_args = ()
    nports = 1
    tree_dir = "/tmp"

    @classmethod
    def setUpClass(cls):
        cfg = cls.config
        st = cls.setup_tree
        cls.srv = Server(config=(lambda s: cfg(s)) if cfg else None,
                         setup=(lambda s: st(s)) if st else None,
                         nports=cls.nports, env=cls.server_env, args=cls.server_args,
                         tree_dir=cls.tree_dir)
        try:
            cls.srv.start()
        except BaseException:
            cls.srv.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    @property
    def port(self):
        return self.srv.port

    def get(self, path="/", host="alice.test", **kw):
        return get(self.srv.port, path, host=host, **kw)

    def assertStatus(self, resp, code, msg=""):
        self.assertIsNotNone(resp, f"no response (connection closed) {msg}")
        self.assertEqual(resp.status, code,
                         f"{msg} got {resp.status} {resp.reason}: {resp.body[:300]!r}")


# ---------------------------------------------------------------------------- tools, uids

def require_tool(*paths):
    """The first of paths that is executable; an AssertionError (a failure, not a skip)
    naming the Debian package when none is, since CI installs them (scripts/install-deps.sh)."""
    for p in paths:
        found = p if os.path.isabs(p) else shutil.which(p, path="/usr/sbin:/usr/bin:/sbin:/bin")
        if found and os.access(found, os.X_OK):
            return found
    raise AssertionError(f"none of {', '.join(paths)} is installed; run scripts/install-deps.sh "
                         f"(it lists the Debian packages the e2e tests need)")


def pids_of_uid(uid):
    """Live pids whose real uid is uid (zombies excluded)."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit() and uid_of(int(name)) == uid and alive(int(name)):
            out.append(int(name))
    return sorted(out)
