#!/usr/bin/env python3
"""A loopback stand-in for the AWS Lambda Runtime API (2018-06-01).

There is no Runtime API emulator on the test machines, so this plays the
part of the Lambda service for `sluice lambda`, strictly:

  GET  /2018-06-01/runtime/invocation/next
       hands out the next invocation of the queue (--invocations FILE, a
       JSON list) with the Lambda-Runtime-* headers; when the queue is
       empty it blocks, as the real API does, until the process is killed.
  POST /2018-06-01/runtime/invocation/{id}/response
       only for the invocation handed out last and not yet answered;
       Content-Type must be application/json and the body valid JSON.
  POST /2018-06-01/runtime/invocation/{id}/error
       the same, plus the Lambda-Runtime-Function-Error-Type header and a
       body with exactly errorMessage (string), errorType (string, equal to
       the header) and stackTrace (list).
  POST /2018-06-01/runtime/init/error
       only before the first /next; the header, and a body with exactly
       errorMessage and errorType.

Anything else is answered 400/404/405 and written to the violations file.
Every request is appended to the record file as one line,
  METHOD PATH [CONTENT-TYPE] [ERROR-TYPE] [BODY]
(fields present only when sent), so a test compares exact lines.

Invocation entries: {"id", "body" | "body_file", "deadline_ms",
"deadline_in_ms" (the deadline this long after /next is answered), "trace",
"arn", "delay_next": s (wait before answering /next), "delay_post": s
(wait before acknowledging this invocation's result), "hold_post_until":
PATH (acknowledge this invocation's result only once PATH exists: the test
decides how long the runtime stays in the middle of the invocation; 600 s
at most), "status": N (answer /next with this status instead, e.g. 500)}.

Usage: fake_lambda_api.py --port-file F --record R --violations V
       --invocations INV.json
The port is written to F (atomically) once the server listens on
127.0.0.1; stop the server by its PID.
"""
import argparse
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"
INVOCATION_RE = re.compile(r"^/2018-06-01/runtime/invocation/([^/]+)/(response|error)$")


class State:
    def __init__(self, invocations, record, violations):
        self.lock = threading.Lock()
        self.queue = list(invocations)
        self.outstanding = None  # the invocation handed out and not answered
        self.answered = set()
        self.nexts = 0
        self.record = record
        self.violations = violations

    def log(self, line):
        with self.lock:
            with open(self.record, "a", encoding="utf-8") as f:
                f.write(line + "\n")

    def violation(self, text):
        with self.lock:
            with open(self.violations, "a", encoding="utf-8") as f:
                f.write(text + "\n")


def load_invocations(path):
    with open(path, encoding="utf-8") as f:
        items = json.load(f)
    base = os.path.dirname(os.path.abspath(path))
    for item in items:
        if "body_file" in item:
            with open(os.path.join(base, item["body_file"]), "rb") as f:
                item["body"] = f.read()
        elif isinstance(item.get("body"), str):
            item["body"] = item["body"].encode("utf-8")
        item.setdefault("body", b"{}")
    return items


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as curl expects of the real API
    state = None

    def log_message(self, fmt, *args):  # keep the test output clean
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding"):
            self.state.violation("%s %s: chunked body (Content-Length expected)"
                                 % (self.command, self.path))
            return None
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
        self.wfile.flush()

    def refuse(self, status, why):
        self.state.violation("%s %s: %s" % (self.command, self.path, why))
        body = json.dumps({"errorMessage": why, "errorType": "FakeApi.Refused"}).encode()
        self.reply(status, body, [("Content-Type", "application/json")])

    # --- GET /next --------------------------------------------------------
    def do_GET(self):
        body = self.read_body()
        self.state.log("GET %s" % self.path)
        if self.path != PREFIX + "/invocation/next":
            return self.refuse(404, "unknown path")
        if body:
            return self.refuse(400, "GET /next with a body")
        st = self.state
        with st.lock:
            unanswered = st.outstanding
            st.nexts += 1
            item = st.queue.pop(0) if st.queue else None
            if item is not None and "status" not in item:
                st.outstanding = item
        if unanswered is not None:
            st.violation("GET next while invocation %s is unanswered" % unanswered["id"])
        if item is None:
            while True:  # no more work: block like the real API
                time.sleep(3600)
        time.sleep(item.get("delay_next", 0))
        if "status" in item:
            return self.reply(item["status"], b'{"errorMessage":"fake failure"}',
                              [("Content-Type", "application/json")])
        headers = [("Lambda-Runtime-Aws-Request-Id", item["id"]),
                   ("Lambda-Runtime-Deadline-Ms",
                    str(item.get("deadline_ms", int(time.time() * 1000)
                                 + item.get("deadline_in_ms", 60000)))),
                   ("Lambda-Runtime-Invoked-Function-Arn",
                    item.get("arn", "arn:aws:lambda:us-east-1:123456789012:function:sluice")),
                   ("Content-Type", "application/json")]
        if item.get("trace"):
            headers.append(("Lambda-Runtime-Trace-Id", item["trace"]))
        self.reply(200, item["body"], headers)

    # --- POSTs ------------------------------------------------------------
    def do_POST(self):
        body = self.read_body()
        ctype = self.headers.get("Content-Type")
        etype = self.headers.get("Lambda-Runtime-Function-Error-Type")
        text = body.decode("utf-8", "replace") if body is not None else "<chunked>"
        fields = ["POST", self.path] + [v for v in (ctype, etype) if v] + ([text] if text else [])
        self.state.log(" ".join(fields))
        if body is None:
            return self.reply(400)
        if self.path == PREFIX + "/init/error":
            return self.init_error(body, ctype, etype)
        m = INVOCATION_RE.match(self.path)
        if not m:
            return self.refuse(404, "unknown path")
        return self.invocation_result(urllib.parse.unquote(m.group(1)), m.group(2), body,
                                      ctype, etype)

    def check_json(self, body, ctype):
        if ctype != "application/json":
            self.refuse(400, "Content-Type %r, expected application/json" % ctype)
            return None
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            self.refuse(400, "body is not JSON: %s" % e)
            return None

    def check_error_doc(self, doc, etype, keys):
        if not etype:
            return "no Lambda-Runtime-Function-Error-Type header"
        if not isinstance(doc, dict) or sorted(doc) != sorted(keys):
            return "error body keys %r, expected %r" % (
                sorted(doc) if isinstance(doc, dict) else doc, sorted(keys))
        if not isinstance(doc["errorMessage"], str) or not isinstance(doc["errorType"], str):
            return "errorMessage and errorType must be strings"
        if doc["errorType"] != etype:
            return "errorType %r differs from the header %r" % (doc["errorType"], etype)
        if "stackTrace" in keys and not isinstance(doc["stackTrace"], list):
            return "stackTrace must be a list"
        return None

    def init_error(self, body, ctype, etype):
        st = self.state
        with st.lock:
            nexts = st.nexts
        if nexts:
            return self.refuse(403, "init/error after the first /next")
        doc = self.check_json(body, ctype)
        if doc is None:
            return None
        keys = ["errorMessage", "errorType"] + (["stackTrace"] if "stackTrace" in doc else [])
        why = self.check_error_doc(doc, etype, keys)
        if why:
            return self.refuse(400, why)
        return self.reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])

    def invocation_result(self, req_id, kind, body, ctype, etype):
        st = self.state
        with st.lock:
            current = st.outstanding
        if current is None or current["id"] != req_id:
            why = "already answered" if req_id in st.answered else "not the current invocation"
            return self.refuse(400, "%s for %s" % (why, req_id))
        doc = self.check_json(body, ctype)
        if doc is None:
            return None
        if kind == "error":
            why = self.check_error_doc(doc, etype,
                                       ["errorMessage", "errorType", "stackTrace"])
            if why:
                return self.refuse(400, why)
        elif etype:
            return self.refuse(400, "error-type header on a response")
        time.sleep(current.get("delay_post", 0))
        hold = current.get("hold_post_until")
        if hold:
            deadline = time.time() + 600
            while not os.path.exists(hold) and time.time() < deadline:
                time.sleep(0.05)
        with st.lock:
            st.outstanding = None
            st.answered.add(req_id)
        return self.reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--violations", required=True)
    ap.add_argument("--invocations", required=True)
    args = ap.parse_args()

    for path in (args.record, args.violations):
        open(path, "w").close()
    Handler.state = State(load_invocations(args.invocations), args.record, args.violations)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
