#!/usr/bin/env python3
"""moto_server with one fix for signature checking: the request path and
query as they were sent.

moto 5.x rebuilds the request it verifies from werkzeug's request.url, an
IRI in which '+', '%', '=', '~', '/' in query values and non-ASCII
characters are already decoded. S3 signs the path exactly as sent (encoded
once), so any key with such characters fails with SignatureDoesNotMatch
even when the client signed correctly (awscli included). Real S3 verifies
against the raw request line; so does this wrapper, by handing moto's
checker werkzeug's RAW_URI. Everything else is stock moto_server.

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

from moto.server import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
