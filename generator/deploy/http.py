"""One ``requests`` session per service: auth, TLS, timeouts, bounded retries, errors users can read.

Credentials live in ``Secret`` objects that print as ``***``; they reach the wire through an auth
hook and nowhere else, so no error, repr or log line can carry them.

Example::

    http = HttpClient("Grafana", "https://grafana.example", auth=BearerAuth(Secret(token)))
    health = http.request("GET", "/api/health").json()
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase

from generator.deploy.errors import ApiError, AuthError, ConfigError, ConflictError, UnreachableError

# Worth another try: the server or a proxy in front of it is busy or restarting.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Secret:
    """A credential: ``reveal()`` gives the value, everything else prints ``***``."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "***"

    def __repr__(self) -> str:
        return "Secret('***')"


class BearerAuth(AuthBase):
    """``Authorization: Bearer <token>`` (Grafana service-account tokens, Mimir gateways)."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        return r

    def __repr__(self) -> str:
        return "BearerAuth(***)"


class BasicAuth(AuthBase):
    """HTTP basic auth whose password never shows in a repr."""

    def __init__(self, user: str, password: Secret) -> None:
        self.user = user
        self._password = password

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        pair = f"{self.user}:{self._password.reveal()}".encode()
        r.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        return r

    def __repr__(self) -> str:
        return f"BasicAuth({self.user!r}, ***)"


def check_url(name: str, url: str) -> str:
    """``url`` without a trailing slash; refuses credentials in the URL (they would be printed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name}: {url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise ConfigError(f"{name}: put credentials in the environment, not in the URL")
    return url.rstrip("/")


def server_message(response: requests.Response, limit: int = 500) -> str:
    """The server's own words: Grafana's JSON ``message``, else the body text, shortened."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = body.get("message") or body.get("error")
        if isinstance(message, str) and message:
            return message[:limit]
    text = response.text.strip()
    return text[:limit] if text else response.reason or "(no message)"


class HttpClient:
    """Requests to one service; retries 5xx, 429, timeouts and refused connections with backoff."""

    def __init__(
        self,
        service: str,
        base_url: str,
        *,
        auth: AuthBase | None = None,
        verify: bool | str = True,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._session = requests.Session()
        self._session.auth = auth
        self._session.verify = verify
        self._session.headers.update({"Accept": "application/json", **(headers or {})})

    def __repr__(self) -> str:
        return f"HttpClient({self.service!r}, {self.base_url!r})"

    def close(self) -> None:
        self._session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | Iterable[tuple[str, str]] | None = None,
        json: Any = None,
        data: str | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Iterable[int] = (200,),
    ) -> requests.Response:
        """The response when its status is in ``expect``; otherwise a ``DeployError`` naming it."""
        url = self.base_url + path
        expected = set(expect)
        attempts = 1 + max(0, self.retries)
        failure = ""
        retried: requests.Response | None = None
        for attempt in range(attempts):
            if attempt:
                self._sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self._session.request(
                    method, url, params=params, json=json, data=data.encode() if data is not None else None,
                    headers=dict(headers or {}), timeout=self.timeout,
                )
            except requests.exceptions.SSLError as exc:
                raise UnreachableError(
                    f"TLS with {self.service} at {self.base_url} failed ({_reason(exc)}); if it uses a private "
                    "CA, pass --ca-bundle with that CA's certificate (TLS is never switched off)"
                ) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                failure, retried = _reason(exc), None
                continue
            if response.status_code in expected:
                return response
            if response.status_code not in RETRY_STATUSES:
                raise self._error(method, path, response)
            retried = response
        if retried is not None:
            raise self._error(method, path, retried, f" (after {attempts} attempts)")
        raise UnreachableError(
            f"cannot reach {self.service} at {self.base_url}: {failure} (after {attempts} attempts)"
        )

    def _error(self, method: str, path: str, response: requests.Response, note: str = "") -> Exception:
        status = response.status_code
        message = server_message(response) + note
        if status == 401:
            return AuthError(
                f"{self.service} at {self.base_url} rejected the credentials (401 {message}) "
                f"on {method} {path}"
            )
        if status == 403:
            return AuthError(
                f"{self.service} at {self.base_url} refused {method} {path} (403 {message}): "
                "the credentials lack a permission deploy needs"
            )
        if status in (409, 412):
            return ConflictError(self.service, method, path, status, message)
        return ApiError(self.service, method, path, status, message)


def _reason(exc: Exception) -> str:
    """A short cause for a connection failure, without urllib3's nested object reprs."""
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "Read timed out", "timed out",
                   "certificate verify failed", "wrong version number", "Connection reset",
                   "Remote end closed connection"):
        if marker in text:
            return marker.lower()
    return type(exc).__name__
