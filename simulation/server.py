"""What the three loopback emulators share: a threaded server, a request counter, fault injection.

An emulator is a Werkzeug WSGI app built from a routing `Map`; `serve(app)` runs it on 127.0.0.1
on a free port in a background thread. Faults are set on the app's `Faults`, for every route.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Faults:
    """Fault injection, shared by the three emulators.

    rate_limit_after: after this many requests, answer with the API's rate-limit response until
    `rate_limit_reset` seconds have passed. error_burst: the next N requests answer 5xx.
    delay: seconds added to every response. truncate_next: the next N responses are cut in half
    (invalid JSON). garble_next: the next N answer 200 with a body that is not JSON at all (an
    HTML page, as a proxy sends). reset_next: the next N send their headers and half the body,
    then reset the connection (TCP RST). stall_next: the next N say nothing for `stall_seconds`
    (the client's read timeout fires first). after: error_burst and the *_next faults wait until
    this many requests have been answered (to strike mid-run, e.g. on the third page).
    mangle(endpoint, body) -> body: rewrites every JSON body (oddities: nulls, missing keys).
    absent: {path regex: status}: requests whose path matches answer that status (404, 410, 403)
    with the API's own error body, as a server answers for what it lacks or the token cannot
    see (Jira without the agile API, a repository with issues disabled).
    headers(endpoint, headers): rewrites the response headers in place (e.g. a Link header that
    leads back to a page already served, as a misbehaving proxy or server does)."""

    rate_limit_after: int | None = None
    rate_limit_reset: float = 2.0
    error_burst: int = 0
    error_status: int = 502
    delay: float = 0.0
    truncate_next: int = 0
    limited_until: float = 0.0
    garble_next: int = 0
    reset_next: int = 0
    stall_next: int = 0
    stall_seconds: float = 5.0
    after: int = 0
    mangle: Callable[[str, Any], Any] | None = None
    absent: dict[str, int] = field(default_factory=dict)
    headers: Callable[[str, Any], None] | None = None


GARBLED = (b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
           b"<body>\n<h1>Bad Gateway</h1>\n</body></html>\n")


@dataclass
class Stats:
    total: int = 0
    by_route: Counter = field(default_factory=Counter)
    log: list[str] = field(default_factory=list)  # "METHOD path?query", in order

    def reset(self) -> None:
        self.total = 0
        self.by_route.clear()
        self.log.clear()


class Emulator:
    """Base WSGI app: routing, counting, faults. Subclasses set `url_map` and handler methods
    named `on_<endpoint>(request, **values) -> Response`, and `rate_limited(request)`."""

    url_map: Map

    def __init__(self) -> None:
        self.faults = Faults()
        self.stats = Stats()
        self.lock = threading.Lock()
        self.base_url = ""  # set by serve()

    def rate_limited(self, request: Request) -> Response:  # pragma: no cover - per API
        return Response("rate limited", status=429, headers={"Retry-After": "1"})

    def server_error(self, request: Request, status: int) -> Response:
        return Response(
            '{"message": "Server Error"}', status=status, content_type="application/json"
        )

    def check_auth(self, request: Request) -> Response | None:
        return None

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self.lock:
            self.stats.total += 1
            n = self.stats.total
            adapter = self.url_map.bind_to_environ(environ)
            try:
                endpoint, values = adapter.match()
            except HTTPException as exc:
                endpoint, values = None, {}
                error = exc
            self.stats.by_route[endpoint or "unknown"] += 1
            self.stats.log.append(f"{request.method} {request.full_path.rstrip('?')}")
            f = self.faults
            fault = None
            now = time.monotonic()
            if f.rate_limit_after is not None and n > f.rate_limit_after and not f.limited_until:
                f.limited_until = now + f.rate_limit_reset
            if f.limited_until and now < f.limited_until:
                fault = "rate"
            elif f.limited_until and now >= f.limited_until:
                f.rate_limit_after, f.limited_until = None, 0.0
            armed = n > f.after
            if fault is None and armed and f.error_burst > 0:
                f.error_burst -= 1
                fault = "error"
            body_fault = None
            for name in ("stall", "reset", "garble", "truncate"):
                if fault is None and armed and body_fault is None \
                        and getattr(f, f"{name}_next") > 0:
                    setattr(f, f"{name}_next", getattr(f, f"{name}_next") - 1)
                    body_fault = name
        if f.delay:
            time.sleep(f.delay)
        if body_fault == "stall":
            time.sleep(f.stall_seconds)
        if fault == "rate":
            return self.rate_limited(request)(environ, start_response)
        if fault == "error":
            return self.server_error(request, f.error_status)(environ, start_response)
        denied = self.check_auth(request)
        if denied is not None:
            return denied(environ, start_response)
        for pattern, status in f.absent.items():
            if re.search(pattern, request.path):
                return self.absent(request, status)(environ, start_response)
        if endpoint is None:
            return self.not_found(request, error)(environ, start_response)
        response = getattr(self, f"on_{endpoint}")(request, **values)
        if f.mangle is not None and response.is_json:
            response.set_data(json.dumps(f.mangle(endpoint, response.get_json())))
        if f.headers is not None:
            f.headers(endpoint, response.headers)
        if body_fault == "truncate":
            body = response.get_data()
            response.set_data(body[: len(body) // 2])
        elif body_fault == "garble":
            response.set_data(GARBLED)
        elif body_fault == "reset":
            return _reset_midway(response, environ, start_response)
        return response(environ, start_response)

    def not_found(self, request: Request, error: HTTPException) -> Response:
        return Response('{"message": "Not Found"}', status=404, content_type="application/json")

    def absent(self, request: Request, status: int) -> Response:
        """What the API answers for something it lacks (Faults.absent); per API."""
        message = {404: "Not Found", 410: "Gone", 403: "Forbidden"}.get(status, "Error")
        return Response(json.dumps({"message": message}), status=status,
                        content_type="application/json")


def _reset_midway(response: Response, environ, start_response):
    """Send the headers (full Content-Length) and half the body, then reset the connection."""
    body = response.get_data()
    start_response(response.status, list(response.headers.items()))
    yield body[: len(body) // 2]
    sock = environ.get("werkzeug.socket")
    if sock is not None:  # SO_LINGER 0: closing sends RST instead of a graceful FIN
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    raise ConnectionResetError("emulated connection reset mid-body")


class QuietHandler(WSGIRequestHandler):
    # Keep-alive, as the real APIs do: the clients reuse one connection instead of one per request.
    protocol_version = "HTTP/1.1"

    def log_request(self, *args, **kwargs) -> None:  # the request counter is the log
        pass


class Served:
    """A running emulator; use as a context manager or call `stop()`."""

    def __init__(self, app: Emulator, host: str = "127.0.0.1", port: int = 0):
        self.app = app
        self.server = make_server(host, port, app, threaded=True, request_handler=QuietHandler)
        self.port = self.server.server_port
        self.url = f"http://{host}:{self.port}"
        app.base_url = self.url
        # The loop looks for a stop request every 0.05 s (the default 0.5 s made each stop()
        # wait up to half a second: seconds per test file that starts emulators per test).
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(app: Emulator, port: int = 0) -> Served:
    return Served(app, port=port)
