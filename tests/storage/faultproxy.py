#!/usr/bin/env python3
"""A loopback HTTP proxy that injects faults between sluice and moto.

    faultproxy.py --upstream 127.0.0.1:PORT --rules RULES.json --log LOG \
                  --port-file FILE

Listens on a free loopback port (written to --port-file), forwards each
request unchanged (the Host header too, so SigV4 signatures stay valid) to
the upstream and relays the answer, unless a rule says otherwise. The rules
file is read again whenever it changes, so a test rewrites it between runs;
each rule counts its own matches from then on.

A rule is a JSON object; all match keys are optional:
  method   "GET", "PUT", ...           exact
  path     regular expression searched in the (encoded) path
  query    regular expression searched in the raw query string
  header   {"name": "regex"}            a request header must match
  body     regular expression searched in the request body (decoded as
           latin-1): SQS's JSON protocol posts every call to "/", the
           queue URL is in the body
  nth      first match the rule acts on (1-based, default 1)
  count    how many matches it acts on (default 1; -1: all from nth on)
  chance   act on a match only with this probability (0..1), drawn from
           a generator seeded by --seed (default 1): the same requests in
           the same order meet the same faults
and one action:
  "action": "drop",   "bytes": N     forward, relay the status line, the
                                     headers and N body bytes, then close
  "action": "drop",   "bytes": "half"
                                     forward, relay the first half of the
                                     whole answer (head and body), then
                                     close: cut inside the body when it is
                                     the larger part, inside the head when
                                     it is short or empty (a PUT's answer):
                                     the request took effect, its answer
                                     never arrived whole
  "action": "status", "status": 503, "code": "SlowDown"
                                     answer without forwarding: an S3
                                     <Error> document (also with 200)
  "action": "stall",  "seconds": S   read the request, send nothing for S
                                     seconds, then close (not forwarded);
                                     once the stall is over a second line
                                     is logged, action "stall-abandoned"
                                     when the client closed the connection
                                     first (it gave up: its timeout), or
                                     "stall-ran-out" after the S seconds
  "action": "reset"                  close without answering (not forwarded)
and, with "drop", optionally
  "exec": "shell command"            run after forwarding, before relaying
                                     (e.g. to change the object between a
                                     cut transfer and its resumption)

Every request is logged as one JSON line: method, path, query, range,
if_match, target (the x-amz-target header of AWS's JSON protocols, e.g.
"AmazonSQS.ReceiveMessage"), the action taken ("pass" when none) and rule,
the index in the rules file of the rule that acted (null when none).
"""
import argparse
import http.client
import json
import os
import random
import re
import select
import socket
import socketserver
import subprocess
import sys
import threading
import time

LOCK = threading.Lock()
RNG = random.Random(1)  # reseeded from --seed


class Rules:
    def __init__(self, path):
        self.path = path
        self.stamp = None
        self.rules = []
        self.hits = []

    def reload(self):
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            stamp = None
        if stamp == self.stamp:
            return
        self.stamp = stamp
        rules = []
        if stamp is not None:
            with open(self.path, encoding="utf-8") as f:
                text = f.read().strip()
            rules = json.loads(text) if text else []
        self.rules = rules
        self.hits = [0] * len(rules)

    def match(self, method, path, query, headers, body=b""):
        """The first rule that acts on this request, as (index, rule), or
        (None, None)."""
        with LOCK:
            self.reload()
            for i, r in enumerate(self.rules):
                if "method" in r and r["method"] != method:
                    continue
                if "path" in r and not re.search(r["path"], path):
                    continue
                if "query" in r and not re.search(r["query"], query):
                    continue
                if "body" in r and not re.search(r["body"], body.decode("latin-1")):
                    continue
                ok = True
                for name, rx in r.get("header", {}).items():
                    if not re.search(rx, headers.get(name.lower(), "")):
                        ok = False
                if not ok:
                    continue
                if "chance" in r and RNG.random() >= r["chance"]:
                    continue
                self.hits[i] += 1
                n, nth, count = self.hits[i], r.get("nth", 1), r.get("count", 1)
                if n >= nth and (count < 0 or n < nth + count):
                    return i, r
            return None, None


def error_body(code, message):
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        "<RequestId>faultproxy</RequestId></Error>"
    ).encode()


class Handler(socketserver.BaseRequestHandler):
    def setup(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.request.makefile("rb")

    def read_request(self):
        line = self.rfile.readline()
        if not line:
            return None
        method, target, _ = line.decode("latin-1").split(" ", 2)
        headers = []
        while True:
            h = self.rfile.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            name, _, value = h.decode("latin-1").partition(":")
            headers.append((name.strip(), value.strip()))
        lower = {n.lower(): v for n, v in headers}
        body = b""
        if "content-length" in lower:
            body = self.rfile.read(int(lower["content-length"]))
        return method, target, headers, lower, body

    def log(self, method, path, query, lower, action, index=None):
        entry = {
            "method": method,
            "path": path,
            "query": query,
            "range": lower.get("range"),
            "if_match": lower.get("if-match"),
            "target": lower.get("x-amz-target"),
            "action": action,
            "rule": index,
        }
        with LOCK:
            with open(self.server.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")

    def handle(self):
        while True:
            try:
                req = self.read_request()
            except (OSError, ValueError):
                return
            if req is None:
                return
            method, target, headers, lower, body = req
            path, _, query = target.partition("?")
            index, rule = self.server.rules.match(method, path, query, lower, body)
            action = rule["action"] if rule else "pass"
            self.log(method, path, query, lower, action, index)
            if action == "reset":
                return self.close_hard()
            if action == "stall":
                how = self.stall(float(rule.get("seconds", 30)))
                self.log(method, path, query, lower, how, index)
                return self.close_hard()
            if action == "status":
                status = int(rule.get("status", 503))
                data = error_body(rule.get("code", "SlowDown"), rule.get("message", "injected"))
                self.send(status, [("Content-Type", "application/xml")], data, method, None)
                continue
            try:
                status, rheaders, data = self.forward(method, target, headers, body)
            except OSError as e:
                sys.stderr.write(f"faultproxy: upstream failed: {e}\n")
                return self.close_hard()
            if rule and rule.get("exec"):
                subprocess.run(rule["exec"], shell=True, check=False)
            cut = None
            if action == "drop":
                cut = rule.get("bytes", 0)
                cut = cut if cut == "half" else int(cut)
            if not self.send(status, rheaders, data, method, cut):
                return

    def stall(self, seconds):
        """Sends nothing for `seconds`, or until the client closes the
        connection: "stall-abandoned" (the client gave up) or
        "stall-ran-out"."""
        end = time.time() + seconds
        while time.time() < end:
            ready, _, _ = select.select([self.request], [], [], min(0.1, max(0.0, end - time.time())))
            if not ready:
                continue
            try:
                if not self.request.recv(1, socket.MSG_PEEK):
                    return "stall-abandoned"
            except OSError:
                return "stall-abandoned"
            time.sleep(0.05)  # bytes from the client mid-stall: keep stalling
        return "stall-ran-out"

    def forward(self, method, target, headers, body):
        conn = http.client.HTTPConnection(*self.server.upstream, timeout=60)
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders(body if body else None)
        resp = conn.getresponse()
        data = resp.read()
        rheaders = [
            (n, v)
            for n, v in resp.getheaders()
            if n.lower() not in ("transfer-encoding", "connection", "content-length", "keep-alive")
        ]
        if method == "HEAD":
            cl = resp.getheader("Content-Length")
            if cl is not None:
                rheaders.append(("Content-Length", cl))
        status = resp.status
        conn.close()
        return status, rheaders, data

    def send(self, status, headers, data, method, cut):
        out = [f"HTTP/1.1 {status} {http.client.responses.get(status, 'Status')}\r\n"]
        for n, v in headers:
            out.append(f"{n}: {v}\r\n")
        if method != "HEAD" and not any(n.lower() == "content-length" for n, _ in headers):
            out.append(f"Content-Length: {len(data)}\r\n")
        out.append("\r\n")
        head = "".join(out).encode("latin-1")
        try:
            if cut == "half":
                whole = head + (b"" if method == "HEAD" else data)
                self.request.sendall(whole[: len(whole) // 2])
                self.close_hard()
                return False
            self.request.sendall(head)
            if method == "HEAD":
                return True
            if cut is not None:
                self.request.sendall(data[:cut])
                self.close_hard()
                return False
            self.request.sendall(data)
            return True
        except OSError:
            return False

    def close_hard(self):
        try:
            self.request.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.request.close()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--rules", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    RNG.seed(a.seed)
    host, port = a.upstream.rsplit(":", 1)
    srv = Server(("127.0.0.1", 0), Handler)
    srv.upstream = (host, int(port))
    srv.rules = Rules(a.rules)
    srv.log_path = a.log
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
