"""YouTube authorisation: the installed-app OAuth flow once, then a stored refresh token.

``ytmaker auth youtube --client-secrets FILE`` runs Google's installed-app
flow (a browser and a local redirect server on a free port) and stores the
authorised-user record (client id and secret, refresh token) with keyring,
service ``ytmaker``. When no keyring backend works (servers, containers) it
goes to ``<data dir>/youtube-token.json``, readable only by the user.
Uploads load it and get access tokens at the configured token endpoint;
neither token ever reaches a log line or an exception message.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import structlog

from ytmaker.errors import CredentialsRejected, ProviderUnavailable
from ytmaker.logs import register_secret

log = structlog.get_logger(__name__)

#: upload, plus force-ssl for thumbnails.set and captions.insert (youtube.upload allows insert only)
SCOPES = ["https://www.googleapis.com/auth/youtube.upload", "https://www.googleapis.com/auth/youtube.force-ssl"]
KEYRING_SERVICE = "ytmaker"
KEYRING_USER = "youtube"
TOKEN_FILE = "youtube-token.json"
_STORED_KEYS = ("client_id", "client_secret", "refresh_token", "token_uri", "scopes")
_REAUTHORIZE = "run `ytmaker auth youtube --client-secrets FILE` again"


class TokenStore:
    """Where the authorised-user record lives: keyring first, else a 0600 file in the data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / TOKEN_FILE

    def save(self, info: dict) -> str:
        """Store ``info``; returns where it went, for the user ("keyring" or the file's path)."""
        text = json.dumps({k: info[k] for k in _STORED_KEYS if k in info})
        try:
            import keyring

            keyring.set_password(KEYRING_SERVICE, KEYRING_USER, text)
            self.path.unlink(missing_ok=True)  # one copy only, in the safer place
            return "keyring"
        except Exception as exc:  # noqa: BLE001  (backends fail in many ways: none installed, no D-Bus, locked)
            log.info("keyring_unavailable", error=type(exc).__name__)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)  # whatever the umask or an older file said
        os.replace(tmp, self.path)
        return str(self.path)

    def load(self) -> dict | None:
        """The stored record, or None when `ytmaker auth youtube` was never run."""
        try:
            import keyring

            text = keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
        except Exception:  # noqa: BLE001
            text = None
        if text is None and self.path.exists():
            text = self.path.read_text(encoding="utf-8")
        if text is None:
            return None
        try:
            info = json.loads(text)
        except ValueError:
            raise CredentialsRejected(f"the stored YouTube authorisation is unreadable; {_REAUTHORIZE}") from None
        for key in ("refresh_token", "client_secret"):
            register_secret(info.get(key))
        return info


def authorize(client_secrets: Path, store: TokenStore, *, open_browser: bool = True, browser: str | None = None,
              timeout_s: float | None = None) -> str:
    """Run the installed-app flow and store the refresh token; returns where it was stored."""
    # Neither package ships type hints (no py.typed, no stubs installed): their names are typed Any here.
    from google_auth_oauthlib.flow import InstalledAppFlow  # type: ignore[import-untyped]
    from oauthlib.oauth2.rfc6749.errors import OAuth2Error  # type: ignore[import-untyped]

    try:
        flow = InstalledAppFlow.from_client_secrets_file(str(client_secrets), scopes=SCOPES)
    except (OSError, ValueError) as exc:
        raise CredentialsRejected(f"cannot use {client_secrets} as an OAuth client secrets file: {exc}") from exc
    try:
        credentials = flow.run_local_server(port=0, open_browser=open_browser, browser=browser, timeout_seconds=timeout_s)
    except OAuth2Error as exc:  # refused consent, wrong client, bad code
        raise CredentialsRejected(f"Google refused the authorisation ({exc.error}): {exc.description or 'no detail'}") from exc
    if credentials is None:
        raise CredentialsRejected("the authorisation was not completed in the browser")
    register_secret(credentials.token)
    if not credentials.refresh_token:
        raise CredentialsRejected("Google sent no refresh token; remove ytmaker's access at "
                                  "https://myaccount.google.com/permissions and authorise again")
    register_secret(credentials.refresh_token)
    return store.save(json.loads(credentials.to_json()))


class AccessToken:
    """A callable giving a valid access token, refreshed at ``token_uri`` when it expires."""

    def __init__(self, info: dict, *, token_uri: str) -> None:
        from google.oauth2.credentials import Credentials

        # from_authorized_user_info always sets Google's endpoint; the configured one replaces it after.
        self._credentials = Credentials.from_authorized_user_info(info).with_token_uri(token_uri)
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if not self._credentials.valid:
                self._refresh()
            return self._credentials.token

    def invalidate(self) -> None:
        """Forget the access token (the API answered 401): the next call refreshes it."""
        with self._lock:
            self._credentials.token = None

    def _refresh(self) -> None:
        from google.auth.exceptions import RefreshError, TransportError
        from google.auth.transport.requests import Request

        try:
            self._credentials.refresh(Request())
        except RefreshError as exc:
            if exc.retryable:
                raise ProviderUnavailable("Google's token endpoint is unavailable; the upload will resume later") from exc
            reason = str(exc.args[0]).split(":")[0] if exc.args else "refused"
            raise CredentialsRejected(f"Google refused the stored YouTube authorisation ({reason}); {_REAUTHORIZE}") from exc
        except TransportError as exc:
            raise ProviderUnavailable("cannot reach Google's token endpoint; the upload will resume later") from exc
        register_secret(self._credentials.token)


def load_access_token(store: TokenStore, *, token_uri: str) -> AccessToken:
    """The stored authorisation as an :class:`AccessToken`, or CredentialsRejected saying what to run."""
    info = store.load()
    if not info or not info.get("refresh_token"):
        raise CredentialsRejected("YouTube is not authorised yet: run `ytmaker auth youtube --client-secrets FILE`")
    return AccessToken(info, token_uri=token_uri)
