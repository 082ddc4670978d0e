#!/usr/bin/env python3
"""moto_server with these fixes, so tests measure sluice and not the
emulator. Everything else is stock moto_server.

1. Signature checking sees the request path and query as they were sent.

moto 5.x rebuilds the request it verifies from werkzeug's request.url, an
IRI in which '+', '%', '=', '~', '/' in query values and non-ASCII
characters are already decoded. S3 signs the path exactly as sent (encoded
once), so any key with such characters fails with SignatureDoesNotMatch
even when the client signed correctly (awscli included). Real S3 verifies
against the raw request line; so does this wrapper, by handing moto's
checker werkzeug's RAW_URI.

2. SQS changes are atomic. moto checks that a message is visible and
then marks it received without a lock, so two concurrent receivers (two
`sluice poll` processes) can both get the same message — which real SQS
never does within the visibility timeout. And DeleteMessage rebuilds the
queue's list of messages from a copy, so two deletes at once (or a delete
beside a send) lose one of the changes: a deleted message comes back, in
flight. One lock around receive, send, delete and visibility changes gives
real SQS's behaviour.

3. For tests: --port-file FILE binds the port the kernel picks (port 0)
and writes it to FILE once the server listens (atomically: the file
appears complete or not at all), so no test ever races another process
for a port it chose in advance. SQS long polls are reported on stderr
("sqs long poll started: QUEUE WAIT s" / "sqs long poll returned: QUEUE
N message(s)"), so a test can tell that a client is inside one.

Usage: python3 moto_server.py [moto_server options] [--port-file FILE]
"""
import sys

from moto.core.authorization import ActionAuthenticatorMixin

_original = ActionAuthenticatorMixin._authenticate_and_authorize_action


def _with_raw_uri(self, iam_request_cls, resource="*"):
    request = getattr(self, "request", None)
    environ = getattr(request, "environ", None) or {}
    raw_uri = environ.get("RAW_URI")
    if not raw_uri or not hasattr(self, "uri"):
        return _original(self, iam_request_cls, resource)
    saved = self.uri
    self.uri = raw_uri
    try:
        return _original(self, iam_request_cls, resource)
    finally:
        self.uri = saved


ActionAuthenticatorMixin._authenticate_and_authorize_action = _with_raw_uri

import threading  # noqa: E402

from moto.sqs.models import SQSBackend  # noqa: E402

_receive = SQSBackend.receive_message
# Reentrant: moto's batch calls go through the single-message ones.
_receive_lock = threading.RLock()


def _atomic_receive(self, queue_name, count, wait_seconds_timeout, *args, **kwargs):
    # Long polls must not hold the lock while they wait: poll without
    # waiting under the lock, and sleep between attempts outside it.
    import time

    deadline = time.time() + (wait_seconds_timeout or 0)
    if wait_seconds_timeout:
        print("sqs long poll started: %s %s s" % (queue_name, wait_seconds_timeout),
              file=sys.stderr, flush=True)
    while True:
        with _receive_lock:
            got = _receive(self, queue_name, count, 0, *args, **kwargs)
        if got or time.time() >= deadline:
            if wait_seconds_timeout:
                print("sqs long poll returned: %s %d message(s)" % (queue_name, len(got)),
                      file=sys.stderr, flush=True)
            return got
        time.sleep(0.05)


SQSBackend.receive_message = _atomic_receive


def _under_queue_lock(method):
    def locked(self, *args, **kwargs):
        with _receive_lock:
            return method(self, *args, **kwargs)
    return locked


# delete_message rebuilds the queue's message list from a copy and assigns
# it: two deletes at once (or a delete beside a send) lose one update, and
# a deleted message comes back in flight. Every change to a queue's
# messages takes the receive lock.
for _name in ("send_message", "delete_message", "change_message_visibility"):
    setattr(SQSBackend, _name, _under_queue_lock(getattr(SQSBackend, _name)))

from moto.server import main  # noqa: E402


def serve_on_port_file(argv):
    """moto_server's main, except that it binds port 0 and writes the port
    the kernel chose to the --port-file once it listens."""
    import argparse
    import os
    import signal

    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    ap = argparse.ArgumentParser()
    ap.add_argument("-H", "--host", default="127.0.0.1")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("-c", "--ssl-cert")
    ap.add_argument("-k", "--ssl-key")
    args = ap.parse_args(argv)
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True
    ssl_context = (args.ssl_cert, args.ssl_key) if args.ssl_cert and args.ssl_key else None
    server = make_server(args.host, 0, app, threaded=True, ssl_context=ssl_context)
    port = server.socket.getsockname()[1]
    os.environ["MOTO_PORT"] = str(port)  # what moto puts in URLs it hands out
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, args.port_file)
    print("moto_server listening on %s:%d" % (args.host, port), file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    if any(a == "--port-file" or a.startswith("--port-file=") for a in sys.argv[1:]):
        sys.exit(serve_on_port_file(sys.argv[1:]))
    sys.exit(main())
