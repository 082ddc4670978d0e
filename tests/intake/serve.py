#!/usr/bin/env python3
"""tests/intake/serve.py — `sluice serve` end to end, over real HTTP.

Starts the sluice binary on 127.0.0.1 (port 0: it reports the port it
got in its log, so no port is chosen in advance) with a local-storage
configuration and a CA this test generates, and drives it with a python
client:
  1. an S3-style POST runs its job: the spec's exact report bytes; MinIO's
     webhook shape, an EventBridge event, s3:TestEvent, malformed bodies;
  2. SNS: Notifications signed with SignatureVersion 1 and 2 by a
     certificate chained to the test CA (served by a loopback server at the
     mapped certificate URL, fetched once) run their jobs; a tampered
     message, a certificate outside the CA, an unsigned envelope, a raw
     delivery and a certificate URL on a non-SNS host (never fetched) get
     403 and run nothing; a SubscriptionConfirmation is confirmed by a GET
     on its SubscribeURL only when it verifies;
  3. bearer and HMAC authentication, accepted and refused; --sync answers;
  4. /healthz, /metrics (counters move), 404/405/413;
  5. durability: kill -9 after a 202 while paused, restart: the job runs;
  6. SIGTERM: the running job finishes, an open connection gets 503, exit 0;
     a paused backlog stays in the spool and runs at the next start.
Every process is stopped by its PID. TAP on stdout.

Nothing waits a fixed time: every wait polls for its condition with a
generous deadline (DEADLINE), the slow job is held by the sleepy plugin
until the test releases it, and "nothing ran" is asserted once the spool
is drained.
"""
import base64
import datetime
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.normpath(os.path.join(HERE, "..", ".."))
TOP_BUILDDIR = os.environ.get("top_builddir") or "."
SLUICE = os.environ.get("SLUICE") or os.path.join(TOP_BUILDDIR, "sluice")
TOPIC = "arn:aws:sns:us-east-1:123456789012:client-inbound-events"
SNS_PREFIX = "https://sns.us-east-1.amazonaws.com/"
LEAF_PEM = "SimpleNotificationService-0123456789abcdef.pem"
REPORT = ("Search Engine Domain\tSearch Keyword\tRevenue\n"
          "google.com\tipod\t480.00\nbing.com\tzune\t250.00\nyahoo.com\tcd player\t0.00\n")
TOKEN = "s3cr3t-t0ken"
DEADLINE = float(os.environ.get("SLUICE_TEST_DEADLINE") or 60)
HMAC_SECRET = "hmac-key-for-tests"

# --- TAP ---------------------------------------------------------------------

_n = 0
_failed = 0


def ok(cond, name, diag=None):
    global _n, _failed
    _n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (_n, name))
    if not cond:
        _failed += 1
        if diag is not None:
            for line in str(diag).splitlines()[:30]:
                print("#   " + line)
    sys.stdout.flush()
    return cond


def is_(got, want, name):
    return ok(got == want, name, "got:  %r\nwant: %r" % (got, want))


def skip(name, reason):
    global _n
    _n += 1
    print("ok %d - %s # SKIP %s" % (_n, name, reason))


def like(got, pattern, name):
    return ok(got is not None and re.search(pattern, got) is not None, name,
              "got:  %r\nwant match: %s" % (got, pattern))


# --- certificates --------------------------------------------------------------

class Crypto:
    """A test CA, a signing certificate it issued, and a rogue self-signed
    one: python `cryptography` when installed, else the openssl CLI."""

    def __init__(self, d):
        self.dir = d
        try:
            import cryptography  # noqa: F401
            self._make_with_cryptography()
            self.how = "python cryptography"
        except ImportError:
            if not shutil.which("openssl"):
                raise
            self._make_with_openssl()
            self.how = "openssl CLI"

    def _make_with_cryptography(self):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
        from cryptography.x509.oid import NameOID

        now = datetime.datetime.now(datetime.timezone.utc)

        def name(cn):
            return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

        def cert(subject, issuer, pub, signer, ca):
            b = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
                 .public_key(pub).serial_number(x509.random_serial_number())
                 .not_valid_before(now - datetime.timedelta(hours=1))
                 .not_valid_after(now + datetime.timedelta(days=2))
                 .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
            return b.sign(signer, hashes.SHA256())

        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        rogue_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = serialization.Encoding.PEM
        self.ca_pem = cert("sluice test CA", "sluice test CA", ca_key.public_key(), ca_key,
                           True).public_bytes(pem)
        self.leaf_pem = cert("sns.amazonaws.com", "sluice test CA", leaf_key.public_key(), ca_key,
                             False).public_bytes(pem)
        self.rogue_pem = cert("sns.amazonaws.com", "sns.amazonaws.com", rogue_key.public_key(),
                              rogue_key, False).public_bytes(pem)
        digests = {"1": hashes.SHA1(), "2": hashes.SHA256()}
        self._sign = lambda key, data, v: key.sign(data, padding.PKCS1v15(), digests[v])
        self.leaf_key, self.rogue_key = leaf_key, rogue_key
        self.ca_file = os.path.join(self.dir, "ca.pem")
        with open(self.ca_file, "wb") as f:
            f.write(self.ca_pem)

    def _openssl(self, *args, data=None):
        return subprocess.run(["openssl"] + list(args), input=data, check=True,
                              capture_output=True, cwd=self.dir).stdout

    def _make_with_openssl(self):
        o = self._openssl
        o("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
          "-subj", "/CN=sluice test CA", "-days", "2",
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        o("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr",
          "-subj", "/CN=sns.amazonaws.com")
        o("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
          "-CAcreateserial", "-out", "leaf.pem", "-days", "2")
        o("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rogue.key", "-out",
          "rogue.pem", "-subj", "/CN=sns.amazonaws.com", "-days", "2")
        read = lambda n: open(os.path.join(self.dir, n), "rb").read()
        self.ca_pem, self.leaf_pem, self.rogue_pem = read("ca.pem"), read("leaf.pem"), read("rogue.pem")
        self.leaf_key, self.rogue_key = "leaf.key", "rogue.key"
        md = {"1": "-sha1", "2": "-sha256"}
        self._sign = lambda key, data, v: self._openssl("dgst", md[v], "-sign", key, data=data)
        self.ca_file = os.path.join(self.dir, "ca.pem")

    def sign(self, data, version, rogue=False):
        key = self.rogue_key if rogue else self.leaf_key
        return base64.b64encode(self._sign(key, data.encode(), version)).decode()


SIGNED_FIELDS = {
    "Notification": ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
    "SubscriptionConfirmation": ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                 "TopicArn", "Type"],
}
SIGNED_FIELDS["UnsubscribeConfirmation"] = SIGNED_FIELDS["SubscriptionConfirmation"]


def sns_message(crypto, type_, message, version="1", cert_url=SNS_PREFIX + LEAF_PEM,
                rogue=False, **extra):
    msg = {"Type": type_, "MessageId": str(uuid.uuid4()), "TopicArn": TOPIC, "Message": message,
           "Timestamp": "2026-11-20T09:15:42.345Z", "SignatureVersion": version,
           "SigningCertURL": cert_url,
           "UnsubscribeURL": SNS_PREFIX + "?Action=Unsubscribe&SubscriptionArn=" + TOPIC + ":1"}
    if type_ == "Notification":
        msg["Subject"] = "Amazon S3 Notification"
    msg.update(extra)
    to_sign = "".join("%s\n%s\n" % (k, msg[k]) for k in SIGNED_FIELDS[type_] if k in msg)
    msg["Signature"] = crypto.sign(to_sign, version, rogue)
    return msg


# --- a loopback server: certificates and SubscribeURL --------------------------

class Loopback:
    def __init__(self, files):
        self.files = files
        self.seen = []
        lock = self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with lock:
                    outer.seen.append(self.path)
                name = self.path.split("?")[0].lstrip("/")
                if name == "" and "Action=ConfirmSubscription" in self.path:
                    body, status = b"<ConfirmSubscriptionResponse/>", 200
                elif name in outer.files:
                    body, status = outer.files[name], 200
                else:
                    body, status = b"not here", 404
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def requests(self):
        with self.lock:
            return list(self.seen)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# --- the sluice server -----------------------------------------------------------

class Serve:
    """One `sluice serve` process on port 0 (the port comes from its log),
    stopped by its PID."""

    def __init__(self, tmp, name, config, args, env=None):
        self.port = None
        self.log_path = os.path.join(tmp, name + ".log")
        self.log = open(self.log_path, "ab")
        self.log_start = self.log.tell()
        e = dict(os.environ)
        e.update(env or {})
        self.proc = subprocess.Popen(
            [SLUICE, "-c", config, "serve", "--listen", "127.0.0.1:0"] + args,
            stdout=self.log, stderr=self.log, env=e)
        self.ready = self._wait_ready()

    def _listening_port(self):
        with open(self.log_path, "rb") as f:
            f.seek(self.log_start)
            m = re.search(rb"listening on 127\.0\.0\.1:0 \(port (\d+)\)", f.read())
        return int(m.group(1)) if m else None

    def _wait_ready(self):
        deadline = time.time() + DEADLINE
        while time.time() < deadline and self.proc.poll() is None:
            self.port = self.port or self._listening_port()
            if self.port:
                try:
                    if self.request("GET", "/healthz")[0] == 200:
                        return True
                except OSError:
                    pass
            time.sleep(0.05)
        return False

    def request(self, method, path, body=None, headers=None, conn=None):
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=DEADLINE)
        try:
            data = body if isinstance(body, (bytes, type(None))) else body.encode()
            c.request(method, path, body=data, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read().decode(), r
        finally:
            if conn is None:
                c.close()

    def post_json(self, doc, headers=None, path="/events"):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        status, text, r = self.request("POST", path, json.dumps(doc), h)
        try:
            body = json.loads(text)
        except ValueError:
            body = text
        return status, body, r

    def metrics(self):
        return self.request("GET", "/metrics")[1]

    def logtext(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def signal(self, sig):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def wait(self, timeout=DEADLINE):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()


def metric(text, name):
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def wait_for(pred, timeout=DEADLINE):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def drained(server):
    """Every event the server accepted has been handled (the spool is
    empty and no job runs): what was never accepted can no longer run."""
    m = server.metrics()
    return metric(m, "sluice_spool_pending") == 0 and metric(m, "sluice_jobs_in_flight") == 0


def done_testing(tmp):
    """The plan line; the work directory removed when every test passed,
    kept (and named) for the reader of a failure. Returns the exit status."""
    if _failed == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print("# logs kept in " + tmp)
    print("1..%d" % _n)
    return 1 if _failed else 0


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode()
    except OSError:
        return None


# --- workspace ---------------------------------------------------------------------

def s3_event(key, bucket="client-inbound", name="ObjectCreated:Put"):
    return {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3",
                         "awsRegion": "us-east-1", "eventTime": "2026-11-20T09:15:42.118Z",
                         "eventName": name,
                         "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket},
                                "object": {"key": key, "size": 6, "eTag": "abc"}}}]}


def make_workspace(tmp):
    inbound = os.path.join(tmp, "root", "client-inbound")
    for d in ("hit-data", "minio", "sns", "eb", "auth", "spool", "slow", "fail", "later"):
        os.makedirs(os.path.join(inbound, d), exist_ok=True)
    shutil.copy(os.path.join(TOP_SRCDIR, "tests", "data", "hit_data.tsv"),
                os.path.join(inbound, "hit-data", "hit_data.tsv"))
    for rel in ("minio/a b.txt", "sns/v1.txt", "sns/v2.txt", "sns/tampered.txt", "sns/rogue.txt",
                "sns/elsewhere.txt", "sns/unsigned.txt", "eb/e.txt", "auth/bearer.txt",
                "auth/hmac.txt", "auth/denied.txt", "spool/a.txt", "slow/s.txt", "fail/f.txt",
                "later/l.txt"):
        with open(os.path.join(inbound, rel), "w") as f:
            f.write("one\ntwo\nthree\n")
    config = os.path.join(tmp, "sluice.yaml")
    with open(config, "w") as f:
        f.write("""storage:
  type: local
  root: root
plugins:
  path: [%(builddir)s/tests/plugins]
rules:
  - name: search-keyword-revenue
    match:
      bucket: client-inbound
      prefix: hit-data/
      suffix: .tsv
    plugin: revenue
    output: s3://client-outbound/{date}/{name}
  - name: slow
    match:
      bucket: client-inbound
      prefix: slow/
    plugin: sleepy
    options:
      started_file: %(tmp)s/slow.started
      release_file: %(tmp)s/slow.release
    output: s3://client-outbound/slow/{key}
  - name: broken
    match:
      bucket: client-inbound
      prefix: fail/
    plugin: failing
    output: s3://client-outbound/fail/{key}
  - name: count
    match:
      bucket: client-inbound
    plugin: linecount
    options:
      mode: count
      suffix: .lines
    output: s3://client-outbound/counts/{key}.lines
""" % {"builddir": TOP_BUILDDIR, "tmp": tmp})
    return config


def counts(tmp, key):
    return os.path.join(tmp, "root", "client-outbound", "counts", key + ".lines")


# --- the tests -------------------------------------------------------------------------

def test_s3_and_basics(tmp, a):
    bearer = {"Authorization": "Bearer " + TOKEN}
    with open(os.path.join(TOP_SRCDIR, "examples", "events", "hit-data-created.json")) as f:
        event = json.load(f)
    status, body, _ = a.post_json(event, bearer)
    is_(status, 202, "S3 event: 202 Accepted")
    ok(isinstance(body, dict) and body.get("accepted") == 1 and body.get("skipped") == 0
       and re.match(r"^\d{13}-\d{6}-[0-9a-f]{8}$", str(body.get("spool_id"))),
       "202 body: accepted 1, skipped 0, a spool id", body)
    report = os.path.join(tmp, "root", "client-outbound", "2026-11-20",
                          "2026-11-20_SearchKeywordPerformance.tab")
    ok(wait_for(lambda: read(report) is not None), "the job wrote the report")
    is_(read(report), REPORT, "report has exactly the spec's bytes")
    ok(wait_for(lambda: metric(a.metrics(), 'sluice_jobs_total{rule="search-keyword-revenue",'
                                            'outcome="succeeded"}') == 1),
       "metrics: the revenue job counted once")
    m = a.metrics()
    is_(metric(m, "sluice_bytes_in_total"), 6259.0, "metrics: bytes in = the sample's size")
    ok((metric(m, "sluice_bytes_out_total") or 0) >= len(REPORT), "metrics: bytes out counted")
    is_(metric(m, "sluice_job_duration_seconds_count"), 1.0, "metrics: one duration observed")
    is_(metric(m, "sluice_jobs_in_flight"), 0.0, "metrics: nothing in flight")
    is_(metric(m, 'sluice_http_requests_total{code="202"}'), 1.0, "metrics: one 202")
    is_(metric(m, "sluice_notification_failures_total"), 0.0, "metrics: no notification failed")
    ok(os.path.exists(os.path.join(tmp, "spool", ".lock")),
       "default spool: spool/ beside the storage root")
    records = []
    for d, _, files in os.walk(os.path.join(tmp, "runs")):
        for name in files:
            try:
                detail = json.load(open(os.path.join(d, name))).get("detail", {})
                records.append((detail.get("rule"), detail.get("state")))
            except (ValueError, AttributeError):
                pass
    ok(("search-keyword-revenue", "SUCCEEDED") in records, "the job wrote its run record",
       records)
    # At-least-once senders redeliver: the run records make it harmless.
    status, body, _ = a.post_json(event, bearer)
    is_(status, 202, "the same event again: 202")
    ok(wait_for(lambda: metric(a.metrics(), 'sluice_jobs_total{rule="search-keyword-revenue",'
                                            'outcome="skipped"}') == 1),
       "the redelivered event's job is skipped as a duplicate")

    # MinIO's webhook shape: EventName, Key, Records with eventSource minio:s3.
    minio = {"EventName": "s3:ObjectCreated:Put", "Key": "client-inbound/minio/a b.txt",
             "Records": [{"eventVersion": "2.0", "eventSource": "minio:s3",
                          "awsRegion": "", "eventTime": "2026-11-20T09:27:27.000Z",
                          "eventName": "s3:ObjectCreated:Put",
                          "s3": {"s3SchemaVersion": "1.0", "configurationId": "Config",
                                 "bucket": {"name": "client-inbound",
                                            "arn": "arn:aws:s3:::client-inbound"},
                                 "object": {"key": "minio%2Fa+b.txt", "size": 14,
                                            "eTag": "5fc7298143efe1276d39a3466d4e255f",
                                            "sequencer": "15CFEDF8D5304D1A"}}}]}
    status, body, _ = a.post_json(minio, bearer, path="/")
    is_(status, 202, "MinIO webhook shape on POST /: 202")
    ok(wait_for(lambda: read(counts(tmp, "minio/a b.txt")) == "3\n"),
       "MinIO event ran its job (key decoded: 'minio/a b.txt')")

    eb = json.load(open(os.path.join(TOP_SRCDIR, "tests", "data", "events",
                                     "eventbridge-object-created.json")))
    eb["detail"]["bucket"]["name"] = "client-inbound"
    eb["detail"]["object"]["key"] = "eb/e.txt"
    status, body, _ = a.post_json(eb, bearer)
    is_(status, 202, "EventBridge event (API destination): 202")
    ok(wait_for(lambda: read(counts(tmp, "eb/e.txt")) == "3\n"), "EventBridge event ran its job")

    test_event = json.load(open(os.path.join(TOP_SRCDIR, "tests", "data", "events",
                                             "s3-test-event.json")))
    status, body, _ = a.post_json(test_event, bearer)
    is_((status, body), (200, {"accepted": 0, "skipped": 1}), "s3:TestEvent: 200, nothing spooled")

    bad = s3_event("x")
    del bad["Records"][0]["s3"]["object"]["key"]
    status, body, _ = a.post_json(bad, bearer)
    is_(status, 400, "event without a key: 400")
    like(body.get("error") if isinstance(body, dict) else None,
         r"Records\[0\]\.s3\.object\.key", "400 names the field")
    status, text, _ = a.request("POST", "/events", "{not json", bearer)
    is_(status, 400, "invalid JSON: 400")
    like(text, "not valid JSON", "and says so")

    status, text, r = a.request("GET", "/healthz")
    is_((status, text), (200, "ok\n"), "GET /healthz: 200 ok")
    status, text, r = a.request("GET", "/metrics")
    is_(status, 200, "GET /metrics: 200")
    like(r.getheader("Content-Type"), r"^text/plain; version=0\.0\.4", "Prometheus content type")
    like(text, r"(?m)^# TYPE sluice_job_duration_seconds histogram$", "histogram declared")
    like(text, r'(?m)^sluice_job_duration_seconds_bucket\{le="\+Inf"\} ', "+Inf bucket")
    is_(a.request("GET", "/nowhere")[0], 404, "unknown path: 404")
    status, _, r = a.request("GET", "/events")
    is_((status, r.getheader("Allow")), (405, "POST"), "GET /events: 405, Allow: POST")

    # 413: the declared size is refused before any body is read.
    s = socket.create_connection(("127.0.0.1", a.port), timeout=DEADLINE)
    s.sendall(b"POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode() +
              b"\r\nContent-Type: application/json\r\nContent-Length: 70000\r\n\r\n")
    reply = b""
    while b"\r\n\r\n" not in reply:
        chunk = s.recv(4096)
        if not chunk:
            break
        reply += chunk
    s.close()
    like(reply.decode(errors="replace"), r"^HTTP/1\.1 413 ", "body over --max-body: 413")


def test_auth_bearer(tmp, a):
    status, body, r = a.post_json(s3_event("auth/denied.txt"))
    is_(status, 401, "bearer: no Authorization: 401")
    like(r.getheader("WWW-Authenticate"), "^Bearer ", "401 carries WWW-Authenticate: Bearer")
    status, body, _ = a.post_json(s3_event("auth/denied.txt"), {"Authorization": "Bearer wrong"})
    is_(status, 403, "bearer: wrong token: 403")
    status, body, _ = a.post_json(s3_event("auth/denied.txt"),
                                  {"Authorization": "Bearer " + TOKEN + "x"})
    is_(status, 403, "bearer: token with a suffix: 403")
    status, body, _ = a.post_json(s3_event("auth/bearer.txt"),
                                  {"Authorization": "Bearer " + TOKEN})
    is_(status, 202, "bearer: right token: 202")
    ok(wait_for(lambda: read(counts(tmp, "auth/bearer.txt")) == "3\n"), "authorised event ran")
    ok(wait_for(lambda: drained(a)), "the spool is drained")
    ok(read(counts(tmp, "auth/denied.txt")) is None, "refused events ran nothing")


def test_sns(tmp, a, crypto, loop):
    def notification(key, version="1", **kw):
        return sns_message(crypto, "Notification", json.dumps(s3_event(key)), version, **kw)

    def post_sns(msg):
        return a.post_json(msg, {"x-amz-sns-message-type": msg["Type"],
                                 "Content-Type": "text/plain; charset=UTF-8"})

    status, body, _ = post_sns(notification("sns/v1.txt", "1"))
    is_(status, 202, "SNS Notification, SignatureVersion 1 (SHA1): 202")
    ok(wait_for(lambda: read(counts(tmp, "sns/v1.txt")) == "3\n"), "SignatureVersion 1: job ran")
    status, body, _ = post_sns(notification("sns/v2.txt", "2"))
    is_(status, 202, "SNS Notification, SignatureVersion 2 (SHA256): 202")
    ok(wait_for(lambda: read(counts(tmp, "sns/v2.txt")) == "3\n"), "SignatureVersion 2: job ran")
    is_(loop.requests().count("/" + LEAF_PEM), 1,
        "signing certificate fetched once from the mapped URL, then cached")

    msg = notification("sns/tampered.txt", "2")
    msg["Message"] = json.dumps(s3_event("sns/tampered.txt", name="ObjectCreated:Copy"))
    status, body, _ = post_sns(msg)
    is_(status, 403, "tampered Message: 403")
    like(body.get("error") if isinstance(body, dict) else None, "Signature",
         "403 says the signature does not match")

    before = loop.requests()
    msg = notification("sns/rogue.txt", "1", cert_url=SNS_PREFIX + "rogue.pem", rogue=True)
    status, body, _ = post_sns(msg)
    is_(status, 403, "certificate not issued by the trusted CA: 403")
    like(body.get("error") if isinstance(body, dict) else None, "does not verify",
         "403 says the certificate does not verify")

    before = loop.requests()
    for url in ("http://127.0.0.1:%d/%s" % (loop.port, LEAF_PEM),
                "https://sns.us-east-1.amazonaws.com.evil.example/%s" % LEAF_PEM,
                "http://sns.us-east-1.amazonaws.com/%s" % LEAF_PEM):
        status, body, _ = post_sns(notification("sns/elsewhere.txt", "1", cert_url=url))
        is_(status, 403, "certificate URL %s: 403" % url)
    is_(loop.requests(), before, "no certificate fetched for a non-SNS URL")

    unsigned = {"Type": "Notification", "MessageId": "1", "TopicArn": TOPIC,
                "Message": json.dumps(s3_event("sns/unsigned.txt")),
                "Timestamp": "2026-11-20T09:15:42.345Z"}
    status, body, _ = a.post_json(unsigned, {"Authorization": "Bearer " + TOKEN})
    is_(status, 403, "an unsigned SNS envelope is refused even with the bearer token")
    status, body, _ = a.post_json(s3_event("sns/unsigned.txt"),
                                  {"x-amz-sns-message-type": "Notification"})
    is_(status, 403, "raw message delivery (SNS header, no envelope): 403")
    msg = notification("sns/unsigned.txt", "1")
    status, body, _ = a.post_json(msg, {"x-amz-sns-message-type": "SubscriptionConfirmation"})
    is_(status, 400, "header type differs from the message Type: 400")

    # SNS's own URL; the test-only map sends the GET to the loopback server
    sub_url = SNS_PREFIX + "?Action=ConfirmSubscription&Token=tok123"
    conf = sns_message(crypto, "SubscriptionConfirmation",
                       "You have chosen to subscribe to the topic " + TOPIC, "1",
                       Token="tok123", SubscribeURL=sub_url)
    bad = dict(conf, Token="tok999")
    status, body, _ = post_sns(bad)
    is_(status, 403, "SubscriptionConfirmation with a changed Token: 403")
    ok(not any("Action=ConfirmSubscription" in p for p in loop.requests()),
       "no GET on SubscribeURL before a signature verified")
    # issue 12, finding 6: a verified confirmation naming any other URL is
    # not fetched (main GETs it)
    for elsewhere in ("http://127.0.0.1:%d/confirm?Action=ConfirmSubscription&Token=t" %
                      loop.port,
                      "https://sns.us-east-1.amazonaws.com.evil.example/?Action="
                      "ConfirmSubscription&Token=t",
                      "http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t"):
        status, body, _ = post_sns(sns_message(
            crypto, "SubscriptionConfirmation", "subscribe", "1", Token="t",
            SubscribeURL=elsewhere))
        is_(status, 403, "a verified confirmation with SubscribeURL %s: 403" % elsewhere)
        like(body.get("error") if isinstance(body, dict) else None,
             "is not https://sns.<region>.amazonaws.com/", "403 says which URLs are confirmed")
    ok(not any("Action=ConfirmSubscription" in p for p in loop.requests()),
       "no GET on a SubscribeURL that is not SNS's")
    status, body, _ = post_sns(conf)
    is_((status, body), (200, {"confirmed": True, "topic": TOPIC}),
        "verified SubscriptionConfirmation: 200 confirmed")
    is_([p for p in loop.requests() if "Action=ConfirmSubscription" in p],
        ["/?Action=ConfirmSubscription&Token=tok123"], "GET on SubscribeURL observed once")

    unsub = sns_message(crypto, "UnsubscribeConfirmation", "unsubscribed", "2",
                        Token="tok123", SubscribeURL=sub_url)
    status, body, _ = post_sns(unsub)
    is_((status, body), (200, {"acknowledged": "UnsubscribeConfirmation"}),
        "verified UnsubscribeConfirmation: 200 acknowledged")

    other = sns_message(crypto, "Notification", json.dumps(s3_event("sns/unsigned.txt")), "2",
                        TopicArn="arn:aws:sns:us-east-1:999999999999:someone-elses-topic")
    status, body, _ = post_sns(other)
    is_(status, 403, "a genuine message from a topic not in --sns-topic-arn: 403")
    like(body.get("error") if isinstance(body, dict) else None, "not an accepted topic",
         "403 names the reason")

    ok(wait_for(lambda: drained(a)), "the spool is drained")
    for key in ("sns/tampered.txt", "sns/rogue.txt", "sns/elsewhere.txt", "sns/unsigned.txt"):
        ok(read(counts(tmp, key)) is None, "refused SNS message ran nothing (%s)" % key)
    m = a.metrics()
    is_(metric(m, "sluice_spool_pending"), 0.0, "nothing left in the spool")
    ok((metric(m, 'sluice_http_requests_total{code="403"}') or 0) >= 10, "metrics count the 403s")


def test_hmac_sync(tmp, config):
    b = Serve(tmp, "hmac", config, ["--sync", "--workers", "2", "--spool",
                                    os.path.join(tmp, "spool-b"), "--hmac-secret-env",
                                    "SLUICE_TEST_HMAC"], {"SLUICE_TEST_HMAC": HMAC_SECRET})
    try:
        ok(b.ready, "server with --hmac-secret-env and --sync starts", b.logtext())
        body = json.dumps(s3_event("auth/hmac.txt"))
        sig = "sha256=" + hmac.new(HMAC_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
        status, text, _ = b.request("POST", "/events", body)
        is_(status, 401, "HMAC: no signature: 401")
        status, text, _ = b.request("POST", "/events", body + " ", {"X-Sluice-Signature": sig})
        is_(status, 403, "HMAC: signature of another body: 403")
        status, text, _ = b.request("POST", "/events", body, {"X-Sluice-Signature": "sha256=00"})
        is_(status, 403, "HMAC: malformed signature: 403")
        status, text, _ = b.request("POST", "/events", body,
                                    {"X-Sluice-Signature": sig.upper().replace("SHA256", "sha256")})
        is_(status, 200, "HMAC: right signature (hex in upper case): 200 with --sync")
        is_(json.loads(text), {"accepted": 1, "succeeded": 1, "failed": 0, "skipped": 0,
                               "outputs": ["s3://client-outbound/counts/auth/hmac.txt.lines"]},
            "--sync answer: the job's outcome and output")
        is_(read(counts(tmp, "auth/hmac.txt")), "3\n", "--sync: the output exists on the 200")
        body = json.dumps(s3_event("fail/f.txt"))
        sig = "sha256=" + hmac.new(HMAC_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
        status, text, _ = b.request("POST", "/events", body, {"X-Sluice-Signature": sig})
        is_(status, 500, "--sync with a failing job: 500 (the sender may retry)")
        is_(json.loads(text).get("failed"), 1, "--sync answer counts the failure")
        m = b.metrics()
        is_(metric(m, 'sluice_jobs_total{rule="broken",outcome="failed"}'), 1.0,
            "metrics: the failed job by rule and outcome")
    finally:
        b.signal(signal.SIGTERM)
        is_(b.wait(), 0, "HMAC server stops with 0 on SIGTERM")
        b.kill()


def test_spool_and_stop(tmp, config):
    spool = os.path.join(tmp, "spool-c")
    args = ["--workers", "2", "--spool", spool]
    c = Serve(tmp, "durable1", config, args + ["--paused"])
    try:
        ok(c.ready, "paused server starts", c.logtext())
        status, body, _ = c.post_json(s3_event("spool/a.txt"))
        is_(status, 202, "paused: event accepted with 202")
        entry = os.path.join(spool, "%s.json" % body.get("spool_id"))
        ok(os.path.exists(entry), "the 202 came after the event was in the spool directory")
        is_(json.loads(read(entry) or "null"), s3_event("spool/a.txt"),
            "the spool entry holds the event")
    finally:
        c.kill()  # kill -9: no chance to clean up
    ok(read(counts(tmp, "spool/a.txt")) is None, "nothing ran before the crash")

    c = Serve(tmp, "durable2", config, args)
    try:
        ok(c.ready, "restarted server starts", c.logtext())
        ok(wait_for(lambda: read(counts(tmp, "spool/a.txt")) == "3\n"),
           "after kill -9 and restart the spooled job ran")
        ok(wait_for(lambda: not os.path.exists(entry)), "its spool entry is deleted")
        like(c.logtext(), r"1 event\(s\) left by a previous run queued again",
             "the restart says it found the leftover")

        # SIGTERM while a job runs: it finishes, open connections get 503.
        # The job (sleepy) runs until the test creates slow.release, so the
        # stop is "during a job" for as long as the test needs.
        status, body, _ = c.post_json(s3_event("slow/s.txt"))
        is_(status, 202, "slow job accepted")
        ok(wait_for(lambda: os.path.exists(os.path.join(tmp, "slow.started"))),
           "the slow job is running")
        is_(metric(c.metrics(), "sluice_jobs_in_flight"), 1.0, "one job in flight")
        conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=DEADLINE)
        is_(c.request("GET", "/healthz", conn=conn)[0], 200, "a keep-alive connection is open")
        c.signal(signal.SIGTERM)
        ok(wait_for(lambda: "SIGTERM received: stopping" in c.logtext()), "the stop began")

        # Until the server drains, the open connection still gets 200s; the
        # state to reach is the 503 (polled, on the same connection).
        def open_connection_status():
            try:
                return c.request("GET", "/healthz", conn=conn)[0]
            except (OSError, http.client.HTTPException) as e:
                return repr(e)
        seen = []
        wait_for(lambda: seen.append(open_connection_status()) or seen[-1] != 200)
        is_(seen[-1], 503, "during the stop a request on an open connection gets 503")
        conn.close()

        def refused():
            try:
                socket.create_connection(("127.0.0.1", c.port), timeout=DEADLINE).close()
                return False
            except OSError:
                return True
        ok(wait_for(refused), "new connections are refused during the stop")
        ok(c.proc.poll() is None, "the server waits for the running job")
        open(os.path.join(tmp, "slow.release"), "w").close()
        is_(c.wait(), 0, "SIGTERM: exit status 0")
        slow_out = os.path.join(tmp, "root", "client-outbound", "slow", "slow", "s.txt")
        is_(read(slow_out), "one\ntwo\nthree\n", "the running job finished before the exit")
        like(c.logtext(), r"stopped; 0 event\(s\) left", "the log says the stop was clean")
    finally:
        c.kill()

    # A paused backlog survives a clean stop and runs at the next start.
    c = Serve(tmp, "durable3", config, args + ["--paused"])
    try:
        status, body, _ = c.post_json(s3_event("later/l.txt"))
        is_(status, 202, "paused again: accepted")
        c.signal(signal.SIGINT)
        is_(c.wait(), 0, "SIGINT: exit status 0")
        like(c.logtext(), r"stopped; 1 event\(s\) left in the spool", "one event left")
    finally:
        c.kill()
    c = Serve(tmp, "durable4", config, args)
    try:
        ok(wait_for(lambda: read(counts(tmp, "later/l.txt")) == "3\n"),
           "the backlog ran at the next start")
    finally:
        c.signal(signal.SIGTERM)
        c.wait()
        c.kill()


def main():
    if not os.access(SLUICE, os.X_OK):
        print("1..0 # SKIP no sluice binary at %s" % SLUICE)
        return 0
    tmp = tempfile.mkdtemp(prefix="sluice-serve-")
    servers, loop = [], None
    try:
        try:
            crypto = Crypto(tmp)
            print("# certificates made with " + crypto.how)
        except ImportError:
            crypto = None
        loop = Loopback({LEAF_PEM: crypto.leaf_pem, "rogue.pem": crypto.rogue_pem}
                        if crypto else {})
        config = make_workspace(tmp)
        sns_args = ["--sns-topic-arn", TOPIC, "--sns-test-ca", crypto.ca_file,
                    "--sns-test-cert-url-map", "%s=http://127.0.0.1:%d/" % (SNS_PREFIX, loop.port)
                    ] if crypto else []
        a = Serve(tmp, "main", config, ["--workers", "2", "--max-body", "64k", "--auth-token-env",
                                        "SLUICE_TEST_TOKEN"] + sns_args,
                  {"SLUICE_TEST_TOKEN": TOKEN})
        servers.append(a)
        if not ok(a.ready, "sluice serve starts and answers /healthz", a.logtext()):
            return 1
        test_s3_and_basics(tmp, a)
        test_auth_bearer(tmp, a)
        if crypto:
            like(a.logtext(), "TEST ONLY", "the test-only SNS options log a loud warning")
            test_sns(tmp, a, crypto, loop)
        else:
            skip("SNS signatures", "neither python cryptography nor the openssl CLI is installed")
        a.signal(signal.SIGTERM)
        is_(a.wait(), 0, "main server stops with 0 on SIGTERM")
        test_hmac_sync(tmp, config)
        test_spool_and_stop(tmp, config)
    finally:
        for s in servers:
            s.kill()
        if loop:
            loop.stop()
    return done_testing(tmp)


if __name__ == "__main__":
    sys.exit(main())
