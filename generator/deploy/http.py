"""One ``requests`` session per service: auth, TLS, timeouts, urllib3 retries, errors users can read.

Credentials live in ``Secret`` objects that print as ``***``; they reach the wire through an auth
hook and nowhere else, so no error, repr or log line can carry them.

Example::

    http = HttpClient("Grafana", "https://grafana.example", auth=BearerAuth(Secret(token)))
    health = http.json("GET", "/api/health")
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from urllib3.util.retry import Retry

from generator.deploy.errors import (
    ApiError,
    AuthError,
    ConfigError,
    ConflictError,
    OwnershipError,
    UnreachableError,
)

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


# Methods whose repeat does no harm: a PUT or DELETE that landed lands the same way again. A POST
# that timed out or got a 5xx may have been saved; retrying it would report a save that landed as
# failed (or save twice), so it is never retried once sent.
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def retry_policy(retries: int, backoff: float) -> Retry:
    """urllib3's ``Retry``: idempotent requests only, ``Retry-After`` honoured on 429 and 503."""
    return Retry(
        total=retries, connect=retries, read=retries, status=retries, other=0, redirect=0,
        allowed_methods=IDEMPOTENT, status_forcelist=RETRY_STATUSES, backoff_factor=backoff,
        respect_retry_after_header=True, raise_on_status=False, raise_on_redirect=False,
    )


class HttpClient:
    """Requests to one service; urllib3 retries idempotent calls on 5xx, 429, timeouts and refusals."""

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
    ) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        # Given per request: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a
        # session's verify, but never a request's own --ca-bundle.
        self.verify = verify
        self._session = requests.Session()
        self._session.auth = auth
        self._session.headers.update({"Accept": "application/json", **(headers or {})})
        adapter = HTTPAdapter(max_retries=retry_policy(retries, backoff))
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

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
        attempts = f" (after {1 + self.retries} attempts)" if method in IDEMPOTENT and self.retries else ""
        try:
            # Redirects are not followed: requests turns a redirected POST into a GET, and a
            # redirect usually means a wrong base URL or a login page in front of the API.
            response = self._session.request(
                method, url, params=params, json=json, data=data.encode() if data is not None else None,
                headers=dict(headers or {}), timeout=self.timeout, verify=self.verify, allow_redirects=False,
            )
        except requests.exceptions.SSLError as exc:
            raise UnreachableError(
                f"TLS with {self.service} at {self.base_url} failed ({_reason(exc)}); if it uses a private "
                "CA, pass --ca-bundle with that CA's certificate (TLS is never switched off)"
            ) from None
        except requests.exceptions.RetryError as exc:
            raise UnreachableError(f"{self.service} at {self.base_url} kept failing {method} {path} "
                                   f"({_reason(exc)}){attempts}") from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            if method not in IDEMPOTENT and isinstance(exc, requests.ReadTimeout):
                raise UnreachableError(
                    f"{self.service} at {self.base_url} did not answer {method} {path} within {self.timeout:g}s; "
                    "the change may have landed: run the deploy again, its plan shows what is there") from None
            raise UnreachableError(f"cannot reach {self.service} at {self.base_url}: {_reason(exc)}{attempts}") \
                from None
        if response.status_code in set(expect):
            return response
        if response.is_redirect:
            raise ApiError(self.service, method, path, response.status_code,
                           f"redirected to {response.headers.get('Location', '?')}; deploy does not follow "
                           f"redirects: is {self.base_url} the API's own base URL (not a login page or proxy)?")
        retried = attempts if response.status_code in RETRY_STATUSES else ""
        raise self._error(method, path, response, retried)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """``request`` then the body as JSON; a 2xx that is not JSON is a clear error, not a traceback."""
        response = self.request(method, path, **kwargs)
        return parse_json(self.service, self.base_url, method, path, response)

    def object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """``json`` when the answer is a JSON object (Grafana's resources)."""
        return self._typed(dict, "an object", method, path, **kwargs)  # type: ignore[no-any-return]

    def array(self, method: str, path: str, **kwargs: Any) -> list[Any]:
        """``json`` when the answer is a JSON array (Grafana's searches and lists)."""
        return self._typed(list, "a list", method, path, **kwargs)  # type: ignore[no-any-return]

    def _typed(self, kind: type, name: str, method: str, path: str, **kwargs: Any) -> Any:
        data = self.json(method, path, **kwargs)
        if data is not None and not isinstance(data, kind):
            raise ApiError(self.service, method, path, 200, f"the answer is JSON but not {name}: "
                           f"{str(data)[:120]!r}; is {self.base_url} the API's base URL?")
        return data

    def _error(self, method: str, path: str, response: requests.Response, note: str = "") -> Exception:
        status = response.status_code
        message = server_message(response) + note
        if status == 401:
            return AuthError(
                f"{self.service} at {self.base_url} rejected the credentials (401 {message}) "
                f"on {method} {path}"
            )
        if status == 403 and "read-only" in message.lower():
            # Grafana's answer for an object provisioned from files: not a credentials problem.
            return OwnershipError(f"{self.service} at {self.base_url} refused {method} {path} (403 {message}): "
                                  "it is provisioned from files; change it in its provisioning file")
        if status == 403:
            return AuthError(
                f"{self.service} at {self.base_url} refused {method} {path} (403 {message}): "
                "the credentials lack a permission deploy needs"
            )
        if status in (409, 412):
            return ConflictError(self.service, method, path, status, message)
        return ApiError(self.service, method, path, status, message)


def parse_json(service: str, base_url: str, method: str, path: str, response: requests.Response) -> Any:
    """The JSON body of a response, or a ``DeployError`` saying what came instead."""
    try:
        return response.json()
    except ValueError:
        kind = response.headers.get("Content-Type", "no content type").split(";")[0]
        start = " ".join(response.text.split())[:120]
        raise ApiError(service, method, path, response.status_code,
                       f"the answer is {kind}, not JSON ({start!r}): is {base_url} the API's base URL, "
                       "and is no login page (SSO proxy) in front of it?") from None


def _reason(exc: Exception) -> str:
    """A short cause for a connection failure, without urllib3's nested object reprs."""
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "Read timed out", "timed out",
                   "certificate verify failed", "wrong version number", "Connection reset",
                   "Remote end closed connection"):
        if marker in text:
            return marker.lower()
    return type(exc).__name__
