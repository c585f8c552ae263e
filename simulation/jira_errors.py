"""Jira's error and rate-limit responses, as the emulator sends them.

One idea kept apart from the routes: Jira's error body (`errorMessages`, `errors`), 401 for a
missing or wrong credential (Cloud answers Basic auth with a password in plain text), 429 with an
integer `Retry-After` and Cloud's `X-RateLimit-*` headers, 410 for the retired search, 404 and 500.
`JiraResponses` is mixed into the emulator, which supplies `token`, `email`, `cloud`, `faults`
and `time_scale` (Retry-After counts unscaled seconds: Faults.rate_limit_reset is real seconds, so
with time_scale 0.001 a 0.3 s limit asks for 300 s, and a client sleeping on a clock scaled the
same way behaves as against Jira; as the Slack emulator).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from typing import Any

from werkzeug.wrappers import Request, Response

GONE = ("The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
        "A full migration guideline is available at "
        "https://developer.atlassian.com/changelog/#CHANGE-2046")
CLOUD_BAD_BASIC = ("Basic authentication with passwords is deprecated. For more information, see: "
                   "https://developer.atlassian.com/cloud/confluence/deprecation-notice-basic-auth/")


class JiraResponses:
    """JSON bodies and error responses of the Jira emulator."""

    token: str
    email: str | None
    time_scale: float = 1.0


    @staticmethod
    def error(status: int, *messages: str, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps({"errorMessages": list(messages), "errors": {}})
        return Response(body, status=status, content_type="application/json;charset=UTF-8",
                        headers=headers)

    @staticmethod
    def ok(payload: Any) -> Response:
        return Response(json.dumps(payload, ensure_ascii=False), status=200,
                        content_type="application/json;charset=UTF-8")

    def check_auth(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value == self.token:
            return None
        if scheme.lower() == "basic":
            try:
                user, _, secret = base64.b64decode(value).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user, secret = "", ""
            if secret == self.token and (self.email is None or user == self.email):
                return None
        if not header and request.path.endswith("/serverInfo"):
            return None  # anonymous access, as on real sites
        headers = {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
                   "WWW-Authenticate": 'Basic realm="protected-area"'}
        if self.cloud and scheme.lower() == "basic":
            return Response(CLOUD_BAD_BASIC, status=401, content_type="text/plain",
                            headers=headers)
        body = {"message": "Client must be authenticated to access this resource.",
                "status-code": 401}
        return Response(json.dumps(body), status=401, content_type="application/json",
                        headers=headers)

    def rate_limited(self, request: Request) -> Response:
        left = max(1, math.ceil((self.faults.limited_until - time.monotonic()) / self.time_scale))
        return self.error(429, "Rate limit exceeded.", headers={
            "Retry-After": str(left), "X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0",
            "X-RateLimit-FillRate": "10", "X-RateLimit-Interval-Seconds": "1",
            "RateLimit-Reason": "jira-quota-tenant-based"})

    def server_error(self, request: Request, status: int) -> Response:
        return self.error(status, "Internal server error")

    def not_found(self, request: Request, error: Exception) -> Response:
        return self.error(404, f"null for uri: {request.url}")

    def absent(self, request: Request, status: int) -> Response:
        """Faults.absent: a site without an API (e.g. Jira Core has no /rest/agile) answers as
        for any unknown path."""
        if status == 404:
            return self.not_found(request, None)
        return self.error(status, "You do not have permission to view this resource.")
