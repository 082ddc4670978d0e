#!/usr/bin/env python3
"""tests/intake/serve_limits.py — issue 12, finding 3: slowloris on `serve`.

On main, 1100 connections that each sent part of a request (and 3000 idle
ones) made /healthz and every POST time out for as long as they were held:
libmicrohttpd's default limit (about 1020 connections) was full, nothing
limited one client, and its idle timeout restarts with every byte.

  1. 3000 slow connections (half stopped inside their headers, half inside
     their body), from 50 loopback source addresses (127.0.0.2-51, 60 each,
     under the per-client limit) against a server with the default
     connection limits (and --request-timeout 600: opening 3000
     connections on a loaded machine may take longer than the default 30 s
     deadline, which would close them before they are counted):
     /healthz and a legitimate POST (202, spooled) are still answered
     within 1 s each. How many of the burst the server holds is printed,
     not asserted (see test_many_slow).
  2. The per-client limit: 200 connections from one address (127.0.0.60):
     64 are kept, the others closed at once; a client from another address
     is still answered.
  3. The request deadline does not restart per byte: connections that
     trickle one byte every 0.2 s into their headers or body are closed by
     the server, never before --request-timeout (2 s) after they were
     opened, although bytes kept coming; a request that arrives in time on
     the same server is answered.
  4. Usage errors for the new options.

Only 127.0.0.0/8 is used: the server listens on 127.0.0.1 (port 0, read
from its log); clients bind other loopback source addresses, which Linux
routes to lo without configuration. The client raises its open-file limit
to fit 3000 + 200 sockets (the server raises its own); where the hard limit
is too low the numbers are scaled down and the test says so.

Timing: the only time bounds are the issue's "within 1 s" — a client
timeout on each request, generous for a request answered from memory
while the slow connections sit idle — and the deadline's exact lower
bound; every other wait polls for its condition up to DEADLINE.
"""
import os
import resource
import socket
import sys
import tempfile
import threading
import time
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve as S  # noqa: E402  (TAP helpers and the Serve process wrapper)

ok, is_, like, wait_for = S.ok, S.is_, S.like, S.wait_for
N_SLOW = 3000
PER_ADDR = 60
ANSWER_WITHIN = 1.0  # the bound


def fit_fd_limit(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(hard, want)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def connect_from(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((addr, 0))
    s.settimeout(S.DEADLINE)
    s.connect(("127.0.0.1", port))
    return s


PARTIAL_HEADERS = b"POST /events HTTP/1.1\r\nHost: sluice\r\nContent-Type: application/js"
PARTIAL_BODY = (b"POST /events HTTP/1.1\r\nHost: sluice\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000\r\n\r\n{\"Records\": [")


def is_closed(s):
    """Has the server closed this connection? (no waiting)"""
    try:
        s.setblocking(False)
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        s.settimeout(S.DEADLINE)


def open_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def timed_request(port, method, path, body=None, headers=None):
    """(status, seconds) of one request on a fresh connection whose every
    socket operation must finish within ANSWER_WITHIN; (error, seconds)."""
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=ANSWER_WITHIN)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        r.read()
        return r.status, time.monotonic() - t0
    except OSError as e:
        return "%s: %s" % (type(e).__name__, e), time.monotonic() - t0
    finally:
        c.close()


def event(key):
    return ('{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3",'
            '"eventName":"ObjectCreated:Put","eventTime":"2026-11-20T10:00:00.000Z",'
            '"s3":{"bucket":{"name":"client-inbound"},"object":{"key":"%s","size":4}}}]}' % key)


def workspace(tmp):
    os.makedirs(os.path.join(tmp, "root", "client-inbound"))
    with open(os.path.join(tmp, "root", "client-inbound", "a.txt"), "w") as f:
        f.write("one\n")
    config = os.path.join(tmp, "sluice.yaml")
    with open(config, "w") as f:
        f.write("""storage:
  type: local
  root: root
plugins:
  path: [%s/tests/plugins]
rules:
  - name: count
    match: {bucket: client-inbound}
    plugin: linecount
    output: s3://client-outbound/{key}.lines
""" % S.TOP_BUILDDIR)
    return config


def test_many_slow(tmp, config, n_slow):
    a = S.Serve(tmp, "defaults", config, ["--workers", "2", "--request-timeout", "600"])
    if not ok(a.ready, "sluice serve starts with the default connection limits", a.logtext()):
        return a
    like(a.logtext(), r"limits: 4096 connections, 64 per client address, a request must "
         r"arrive within 600 s", "the limits in force are logged")
    base_fds = open_fds(a.proc.pid)
    socks, errors = [], []
    for i in range(n_slow):
        addr = "127.0.0.%d" % (2 + i // PER_ADDR)
        try:
            s = connect_from(addr, a.port)
            s.sendall(PARTIAL_HEADERS if i % 2 == 0 else PARTIAL_BODY)
            socks.append(s)
        except OSError as e:
            errors.append("%s: %s" % (addr, e))
    is_(len(socks), n_slow, "%d slow connections opened from %d addresses" %
        (n_slow, (n_slow + PER_ADDR - 1) // PER_ADDR))
    if errors:
        print("# " + errors[0])
    # Not asserted: how many of a 3000-connect burst the server gets to
    # accept. In some runs libmicrohttpd stops accepting after ~100 of them
    # (its workers idle in epoll_wait while the kernel's accept queue
    # overflows into SYN cookies), and the rest are dropped by the kernel.
    # Open in issue 12. What the finding needs, and what is asserted, is
    # that /healthz and a legitimate POST are still answered within 1 s.
    wait_for(lambda: open_fds(a.proc.pid) >= base_fds + n_slow)
    print("# the server holds %d of the %d slow connections" %
          (open_fds(a.proc.pid) - base_fds, n_slow))
    st, took = timed_request(a.port, "GET", "/healthz")
    is_(st, 200, "/healthz answered within %.0f s with %d slow connections open (%.3f s)" %
        (ANSWER_WITHIN, n_slow, took))
    st, took = timed_request(a.port, "POST", "/events", event("a.txt"),
                             {"Content-Type": "application/json"})
    is_(st, 202, "a legitimate POST is spooled and answered within %.0f s (%.3f s)" %
        (ANSWER_WITHIN, took))
    closed = sum(1 for s in socks if is_closed(s))
    print("# %d of the slow connections were closed while the server answered" % closed)
    ok(wait_for(lambda: os.path.exists(os.path.join(tmp, "root", "client-outbound",
                                                    "a.txt.lines"))),
       "the POSTed event's job ran")
    for s in socks:
        s.close()
    return a


def test_per_client(tmp, config, n_one):
    b = S.Serve(tmp, "limits", config, ["--workers", "2", "--request-timeout", "600"])
    if not ok(b.ready, "sluice serve starts with --request-timeout 600", b.logtext()):
        return b
    socks = []
    for _ in range(n_one):
        s = connect_from("127.0.0.60", b.port)
        s.sendall(PARTIAL_HEADERS)
        socks.append(s)
    want_closed = n_one - 64
    ok(wait_for(lambda: sum(1 for s in socks if is_closed(s)) >= want_closed),
       "connections over 64 from one address are closed by the server")
    is_(sum(1 for s in socks if not is_closed(s)), 64,
        "exactly 64 from that address stay open (the default per-client limit)")
    st, took = timed_request(b.port, "GET", "/healthz")
    is_(st, 200, "another address is answered within %.0f s (%.3f s)" % (ANSWER_WITHIN, took))
    for s in socks:
        s.close()
    return b


def trickle(socks, started, closed_at, sent, stop):
    """One byte every 0.2 s into every connection until the server closes it."""
    while not stop.is_set() and len(closed_at) < len(socks):
        for i, s in enumerate(socks):
            if i in closed_at:
                continue
            try:
                s.send(b"x" if i % 2 else b"X-")
                sent[i] += 1
            except OSError:
                closed_at[i] = time.monotonic()
                continue
            if is_closed(s):
                closed_at[i] = time.monotonic()
        stop.wait(0.2)


def test_deadline(tmp, config):
    timeout = 2.0
    c = S.Serve(tmp, "deadline", config, ["--workers", "2", "--request-timeout", str(timeout)])
    if not ok(c.ready, "sluice serve starts with --request-timeout 2", c.logtext()):
        return c
    socks, started = [], []
    for i in range(20):
        started.append(time.monotonic())
        s = connect_from("127.0.0.1", c.port)
        s.sendall(PARTIAL_HEADERS + b"\r\nX-Slow: " if i % 2 else PARTIAL_BODY)
        socks.append(s)
    closed_at, sent, stop = {}, [0] * len(socks), threading.Event()
    t = threading.Thread(target=trickle, args=(socks, started, closed_at, sent, stop))
    t.start()
    ok(wait_for(lambda: len(closed_at) == len(socks)),
       "every trickling connection is closed by the server")
    stop.set()
    t.join()
    early = [i for i in closed_at if closed_at[i] - started[i] < timeout]
    is_(early, [], "none was closed before the %.0f s deadline" % timeout)
    ok(min(sent) >= 2, "bytes kept coming until the end (at least %d per connection)" % min(sent))
    # a request that arrives in time on this server is answered
    st, took = timed_request(c.port, "GET", "/healthz")
    is_(st, 200, "a whole request is answered (%.3f s)" % took)
    like(c.logtext(), r"closed \d+ connection\(s\) that did not send a whole request within "
         r"2\.0 s", "the cut connections are logged (counted, not one line each)")
    for s in socks:
        s.close()
    return c


def test_usage(config):
    import subprocess
    for args, want in ((["--max-connections", "0"], "--max-connections"),
                       (["--max-connections-per-client", "x"], "--max-connections-per-client"),
                       (["--request-timeout", "-1"], "--request-timeout")):
        p = subprocess.run([S.SLUICE, "-c", config, "serve"] + args, capture_output=True,
                           text=True, timeout=S.DEADLINE)
        is_(p.returncode, 2, "serve %s: usage error" % " ".join(args))
        like(p.stderr, want, "serve %s: names the option" % " ".join(args))
    p = subprocess.run([S.SLUICE, "serve", "--help"], capture_output=True, text=True,
                       timeout=S.DEADLINE)
    like(p.stdout, "--request-timeout SECONDS", "--help lists the limits")


def main():
    n_slow, n_one = N_SLOW, 200
    have = fit_fd_limit(N_SLOW + n_one + 200)
    if have < N_SLOW + n_one + 200:
        n_slow = max(100, have - n_one - 200)
        print("# open files are limited to %d here: %d slow connections instead of %d" %
              (have, n_slow, N_SLOW))
    tmp = tempfile.mkdtemp(prefix="sluice-serve-limits.")
    servers = []
    try:
        config = workspace(tmp)
        for test in (lambda: test_many_slow(tmp, config, n_slow),
                     lambda: test_per_client(tmp, config, n_one),
                     lambda: test_deadline(tmp, config)):
            srv = test()
            servers.append(srv)
            srv.kill()
        test_usage(config)
    finally:
        for s in servers:
            s.kill()
    return S.done_testing(tmp)


if __name__ == "__main__":
    sys.exit(main())
