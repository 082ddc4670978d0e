#!/usr/bin/env python3
"""webhook_receiver.py PORT_FILE LOG_FILE SECRET [RELEASE_FILE] — a loopback HTTP receiver
for the webhook tests. Binds 127.0.0.1 on a free port (written to PORT_FILE
once listening) and appends one JSON line per POST to LOG_FILE: path,
headers (lower-cased), body, and the signature verdict: "valid" when
X-Sluice-Signature is sha256=<hex HMAC-SHA256 of the raw body keyed by
SECRET>, "invalid" when it is something else, "missing" without it.

Paths: /ok answers 200; /flaky 500 twice, then 200; /gone 410; /slow holds
its answer until RELEASE_FILE exists (120 s at most), then appends a line to
LOG_FILE.slow-answered and answers 200: a client that has returned while
that file does not exist yet gave up on its own (its timeout)."""
import hashlib
import hmac
import json
import sys
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT_FILE, LOG_FILE, SECRET = sys.argv[1], sys.argv[2], sys.argv[3].encode()
RELEASE_FILE = sys.argv[4] if len(sys.argv) > 4 else None
lock = threading.Lock()
seen = {}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        want = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        got = self.headers.get("X-Sluice-Signature")
        verdict = "missing" if got is None else \
            "valid" if hmac.compare_digest(got, want) else "invalid"
        with lock:
            seen[self.path] = seen.get(self.path, 0) + 1
            count = seen[self.path]
            with open(LOG_FILE, "a") as f:
                f.write(json.dumps({
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body.decode("utf-8"),
                    "signature": verdict,
                }) + "\n")
        status = 200
        if self.path == "/flaky" and count <= 2:
            status = 500
        elif self.path == "/gone":
            status = 410
        elif self.path == "/slow":
            deadline = time.time() + 120
            while (not RELEASE_FILE or not os.path.exists(RELEASE_FILE)) and time.time() < deadline:
                time.sleep(0.05)
            with lock:
                with open(LOG_FILE + ".slow-answered", "a") as f:
                    f.write("answered\n")
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(PORT_FILE + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(PORT_FILE + ".tmp", PORT_FILE)
    server.serve_forever()


if __name__ == "__main__":
    main()
