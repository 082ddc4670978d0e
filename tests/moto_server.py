#!/usr/bin/env python3
"""moto_server with two fixes, so tests measure sluice and not the
emulator. Everything else is stock moto_server.

1. Signature checking sees the request path and query as they were sent.

moto 5.x rebuilds the request it verifies from werkzeug's request.url, an
IRI in which '+', '%', '=', '~', '/' in query values and non-ASCII
characters are already decoded. S3 signs the path exactly as sent (encoded
once), so any key with such characters fails with SignatureDoesNotMatch
even when the client signed correctly (awscli included). Real S3 verifies
against the raw request line; so does this wrapper, by handing moto's
checker werkzeug's RAW_URI.

2. SQS ReceiveMessage is atomic. moto checks that a message is visible and
then marks it received without a lock, so two concurrent receivers (two
`sluice poll` processes) can both get the same message — which real SQS
never does within the visibility timeout. A lock around receive_message
gives real SQS's behaviour.

Usage: python3 moto_server.py [moto_server options]
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
_receive_lock = threading.Lock()


def _atomic_receive(self, queue_name, count, wait_seconds_timeout, *args, **kwargs):
    # Long polls must not hold the lock while they wait: poll without
    # waiting under the lock, and sleep between attempts outside it.
    import time

    deadline = time.time() + (wait_seconds_timeout or 0)
    while True:
        with _receive_lock:
            got = _receive(self, queue_name, count, 0, *args, **kwargs)
        if got or time.time() >= deadline:
            return got
        time.sleep(0.05)


SQSBackend.receive_message = _atomic_receive

from moto.server import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
