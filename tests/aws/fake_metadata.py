#!/usr/bin/env python3
"""fake_metadata.py — a loopback stand-in for the EC2 instance metadata
service (IMDSv2) and the ECS/EKS container credentials endpoint, for
tests/aws/creds_servers.sh. No emulator exists for these, so this one is
strict: exact paths, methods and headers, anything else is answered with an
error AND logged as BAD so the test sees it.

Every request is appended to --log as "METHOD PATH STATUS" (plus " BAD
reason" when refused), so the test can count fetches (caching, refresh).

  --port-file F      write the chosen port here once listening
  --log F            the request log
  --expires-in S     Expiration of the credentials handed out (default 3600)
  --role NAME        the instance's role (default sluice-test-role)
  --no-role          IMDS: the instance has no role (404 on the list)
  --hang-token-put   IMDS: the token PUT never answers (hop limit 1)
  --ecs-path P       container endpoint path (default /v1/credentials)
  --ecs-token T      the exact Authorization value the container endpoint
                     requires (none: the header must be absent)
"""
import argparse
import datetime
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN_PATH = "/latest/api/token"
CREDS_PATH = "/latest/meta-data/iam/security-credentials/"


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.tokens = set()
        self.issued = 0

    def next_n(self):
        with self.lock:
            self.issued += 1
            return self.issued

    def log(self, line):
        with self.lock:
            with open(self.args.log, "a") as f:
                f.write(line + "\n")


def expiration(seconds):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None  # set in main

    def log_message(self, fmt, *args):  # quiet: the log file is the record
        pass

    def reply(self, status, body, ctype="text/plain", bad=None):
        # logged before the reply: once the client has its answer the line
        # is there (a test that empties the log after a client exits must
        # not get a late line of that client's last request)
        line = "%s %s %d" % (self.command, self.path, status)
        if bad:
            line += " BAD " + bad
        self.state.log(line)
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def drain(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)

    # ---- IMDSv2
    def imds_token_ok(self):
        tok = self.headers.get("X-aws-ec2-metadata-token")
        if tok is None:
            return "missing X-aws-ec2-metadata-token"
        if tok not in self.state.tokens:
            return "unknown X-aws-ec2-metadata-token"
        if self.headers.get("X-aws-ec2-metadata-token-ttl-seconds") is not None:
            return "TTL header on a GET"
        return None

    def imds_put_token(self):
        a = self.state.args
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        if ttl != "21600":
            return self.reply(400, "", bad="TTL header is %r, want '21600'" % ttl)
        if self.headers.get("X-Forwarded-For") is not None:
            return self.reply(403, "", bad="X-Forwarded-For on the token PUT")
        if self.headers.get("X-aws-ec2-metadata-token") is not None:
            return self.reply(400, "", bad="token header on the token PUT")
        if a.hang_token_put:
            self.state.log("PUT %s HANG" % self.path)
            time.sleep(60)  # the client must give up long before
            return
        token = "imdsTOKEN-" + os.urandom(12).hex()
        with self.state.lock:
            self.state.tokens.add(token)
        self.reply(200, token)

    def imds_get(self):
        a = self.state.args
        bad = self.imds_token_ok()
        if bad:
            return self.reply(401, "", bad=bad)
        if self.path == CREDS_PATH:
            if a.no_role:
                return self.reply(404, "")
            return self.reply(200, a.role)
        if self.path == CREDS_PATH + a.role:
            n = self.state.next_n()
            body = {
                "Code": "Success",
                "LastUpdated": expiration(0),
                "Type": "AWS-HMAC",
                "AccessKeyId": "ASIAIMDS%d" % n,
                "SecretAccessKey": ("imdsSECRET-%d-" % n).ljust(40, "K"),
                "Token": "imdsSESSION-%d-IQoJb3JpZ2luX2Vj" % n,
                "Expiration": expiration(a.expires_in),
            }
            return self.reply(200, json.dumps(body), "application/json")
        return self.reply(404, "", bad="unknown IMDS path")

    # ---- ECS / EKS
    def ecs_get(self):
        a = self.state.args
        auth = self.headers.get("Authorization")
        if auth != a.ecs_token:
            return self.reply(401, json.dumps({"code": "InvalidToken",
                                               "message": "authorization mismatch"}),
                              "application/json", bad="Authorization is wrong or missing")
        n = self.state.next_n()
        body = {
            "AccessKeyId": "ASIAECS%d" % n,
            "SecretAccessKey": ("ecsSECRET-%d-" % n).ljust(40, "K"),
            "Token": "ecsSESSION-%d-IQoJb3JpZ2luX2Vj" % n,
            "Expiration": expiration(a.expires_in),
            "RoleArn": "arn:aws:iam::123456789012:role/task",
        }
        self.reply(200, json.dumps(body), "application/json")

    def do_PUT(self):
        self.drain()
        if self.path == TOKEN_PATH:
            return self.imds_put_token()
        self.reply(404, "", bad="unknown PUT path")

    def do_GET(self):
        if self.path == self.state.args.ecs_path:
            return self.ecs_get()
        if self.path.startswith("/latest/"):
            if self.path == TOKEN_PATH:
                return self.reply(405, "", bad="GET on the token path")
            return self.imds_get()
        self.reply(404, "", bad="unknown GET path")

    def do_POST(self):
        self.drain()
        self.reply(405, "", bad="POST")

    def do_HEAD(self):
        self.reply(405, "", bad="HEAD")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--expires-in", type=int, default=3600)
    p.add_argument("--role", default="sluice-test-role")
    p.add_argument("--no-role", action="store_true")
    p.add_argument("--hang-token-put", action="store_true")
    p.add_argument("--ecs-path", default="/v1/credentials")
    p.add_argument("--ecs-token", default=None)
    args = p.parse_args()

    Handler.state = State(args)
    open(args.log, "a").close()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)  # appears complete or not at all
    server.serve_forever()


if __name__ == "__main__":
    main()
