"""A fake Google OAuth 2.0 server: the consent page (redirects straight back) and the token endpoint."""

from __future__ import annotations

import base64
import itertools
from urllib.parse import parse_qs, unquote_plus, urlencode

from tests.fakes.server import FakeServer, Reply, Request


class FakeOAuth(FakeServer):
    def __init__(self, *, client_id: str = "client-1.apps.googleusercontent.com", client_secret: str = "client-secret-xyz",
                 refresh_token: str = "refresh-token-abcdef", access_token: str = "access-token-1") -> None:
        super().__init__()
        self.client_id, self.client_secret = client_id, client_secret
        self.refresh_token, self.access_token = refresh_token, access_token
        self.revoked = False
        self.token_requests: list[dict[str, str]] = []
        self.consents: list[dict[str, str]] = []
        self._codes = itertools.count(1)
        self.issued_codes: set[str] = set()

    def client_secrets(self) -> dict:
        """A client secrets file's content pointing at this server."""
        return {"installed": {"client_id": self.client_id, "client_secret": self.client_secret,
                              "auth_uri": f"{self.url}/auth", "token_uri": f"{self.url}/token",
                              "redirect_uris": ["http://localhost"]}}

    def respond(self, request: Request) -> Reply:
        if request.method == "GET" and request.path == "/auth":
            # The user consents at once: back to the app's local server with a code.
            with self.lock:
                self.consents.append(dict(request.query))
                code = f"code-{next(self._codes)}"
                self.issued_codes.add(code)
            target = request.query["redirect_uri"] + "?" + urlencode({"code": code, "state": request.query.get("state", ""),
                                                                       "scope": request.query.get("scope", "")})
            return Reply(302, b"", {"Location": target})
        if request.method == "POST" and request.path == "/token":
            form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
            with self.lock:
                self.token_requests.append(form)
            basic = request.headers.get("authorization", "")
            if basic.startswith("Basic "):  # client credentials may come as HTTP Basic instead of in the form
                client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
                form.setdefault("client_id", unquote_plus(client_id))
                form.setdefault("client_secret", unquote_plus(client_secret))
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                return Reply.json(401, {"error": "invalid_client", "error_description": "The OAuth client was not found."})
            grant = form.get("grant_type")
            if grant == "authorization_code" and form.get("code") in self.issued_codes:
                scope = " ".join(self.consents[-1].get("scope", "").split())
                return Reply.json(200, {"access_token": self.access_token, "refresh_token": self.refresh_token,
                                        "expires_in": 3599, "token_type": "Bearer", "scope": scope})
            if grant == "refresh_token" and form.get("refresh_token") == self.refresh_token and not self.revoked:
                return Reply.json(200, {"access_token": self.access_token, "expires_in": 3599, "token_type": "Bearer"})
            return Reply.json(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
        return Reply.json(404, {"error": "not_found"})
