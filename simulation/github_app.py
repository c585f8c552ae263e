"""GitHub App sign-in for the GitHub emulator, and `GET /user` (who a token reads as).

    app = GitHubEmulator(org, token="t0k3n")
    app.install_app(InstalledApp(app_id=4711, public_key=pem, installation_id=99))

Kept apart from the routes over the organization because it is one idea: who may read. An App
signs a short JWT (RS256, `iss` = the app id, `iat`/`exp` at most ten minutes apart) with its
private key; GitHub checks it with the app's public key and, on
`POST /app/installations/{id}/access_tokens`, hands out an installation token (`ghs_...`) with an
`expires_at` (an hour on GitHub; `token_seconds` here, so tests can watch a client renew it). An
installation token is then accepted on every route like the personal token, until it expires
(401 Bad credentials after). `GET /app` answers with the app (id, slug) for a valid JWT. `GET
/user` names the personal token's account; with an installation token GitHub answers 403
"Resource not accessible by integration", and so does this emulator.
"""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from werkzeug.exceptions import NotFound
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from . import github_api as api
from .github_responses import error_body

APP_RULES = [
    Rule("/app", endpoint="app"),
    Rule("/app/installations/<int:installation_id>/access_tokens", endpoint="app_token",
         methods=["POST"]),
    Rule("/user", endpoint="viewer"),
]
JWT_MAX_SECONDS = 600  # GitHub refuses a JWT whose exp is more than ten minutes after its iat
CLOCK_DRIFT = 60  # seconds of client clock drift GitHub tolerates on iat
TOKEN_LOGIN = "processhealth-reader"  # the account the personal token belongs to
TOKEN_LOGIN_ID = 9_000_001


@dataclass
class InstalledApp:
    """One GitHub App installed on the organization. GitHub keeps only the public key."""

    app_id: int
    public_key: str  # PEM
    installation_id: int
    slug: str = "processhealth-reader"
    token_seconds: float = 3600.0


class GitHubAppSignIn:
    """Mixed into the emulator (which supplies `prefix`, `api`, `_json` and `check_auth`)."""

    installed_app: InstalledApp | None = None
    # installation token -> when it expires (epoch seconds); every token ever issued
    app_tokens: dict[str, float]
    prefix: str
    api: str
    _json: Any

    def install_app(self, app: InstalledApp) -> None:
        self.installed_app = app
        self.app_tokens = {}

    def check_auth(self, request: Request) -> Response | None:
        path = request.path.removeprefix(self.prefix)
        if path == "/app" or path.startswith("/app/"):
            return self._check_jwt(request)
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        expires = self.app_tokens.get(given) if self.installed_app else None
        if expires is not None and scheme.lower() in ("token", "bearer"):
            if time.time() < expires:
                return None
            return self._json(error_body("Bad credentials", 401), 401)
        return super().check_auth(request)  # type: ignore[misc]

    def _check_jwt(self, request: Request) -> Response | None:
        """None if the request carries a JWT signed by the installed app, else GitHub's 401."""
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        app = self.installed_app
        if scheme.lower() != "bearer" or app is None:
            return self._json(error_body("A JSON web token could not be decoded", 401), 401)
        try:
            claims = jwt.decode(given, app.public_key, algorithms=["RS256"],
                                options={"require": ["iat", "exp", "iss"]}, leeway=CLOCK_DRIFT)
        except jwt.ExpiredSignatureError:
            return self._json(error_body(
                "'Expiration time' claim ('exp') must be a numeric value representing the "
                "future time at which the assertion expires", 401), 401)
        except jwt.PyJWTError:
            return self._json(error_body("A JSON web token could not be decoded", 401), 401)
        if str(claims["iss"]) != str(app.app_id):
            return self._json(error_body("A JSON web token could not be decoded", 401), 401)
        if claims["exp"] - claims["iat"] > JWT_MAX_SECONDS + CLOCK_DRIFT:
            return self._json(error_body(
                "'Expiration time' claim ('exp') is too far in the future", 401), 401)
        return None

    # --- routes --------------------------------------------------------------------------------

    def on_app(self, request: Request) -> Response:
        app = self._app()
        return self._json({"id": app.app_id, "slug": app.slug, "node_id": f"A_{app.app_id}",
                           "name": app.slug.replace("-", " ").title(),
                           "permissions": dict(PERMISSIONS),
                           "html_url": f"{self.api}/apps/{app.slug}"})

    def on_app_token(self, request: Request, installation_id: int) -> Response:
        app = self._app()
        if installation_id != app.installation_id:
            raise NotFound()
        # whole seconds (rounded up), as GitHub writes expires_at: the client sees when it ends
        expires = math.ceil(time.time() + app.token_seconds)
        token = "ghs_" + secrets.token_hex(18)
        self.app_tokens[token] = expires
        stamp = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self._json({"token": token, "expires_at": stamp,
                           "permissions": dict(PERMISSIONS), "repository_selection": "all"}, 201)

    def on_viewer(self, request: Request) -> Response:
        given = request.headers.get("Authorization", "").partition(" ")[2]
        if given in getattr(self, "app_tokens", {}):
            return self._json(error_body("Resource not accessible by integration", 403), 403)
        return self._json(api._user_links(self.api, TOKEN_LOGIN, TOKEN_LOGIN_ID, "User"))

    def _app(self) -> InstalledApp:
        if self.installed_app is None:
            raise NotFound()
        return self.installed_app


# What the README asks an organization to grant the App: read-only, nothing else.
PERMISSIONS = {"metadata": "read", "contents": "read", "issues": "read",
               "pull_requests": "read", "members": "read"}
