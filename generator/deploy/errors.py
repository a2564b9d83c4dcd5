"""What can go wrong in a deploy, each with a message a user can act on.

No message ever contains a credential: errors carry the method, the path and the server's own
words, never request headers.
"""

from __future__ import annotations


class DeployError(Exception):
    """Base class; ``str()`` is the whole user-facing message."""


class ConfigError(DeployError):
    """A missing, unknown or contradictory setting (flags, env vars, config file)."""


class UnreachableError(DeployError):
    """The host did not answer (connection refused, DNS, TLS, timeout) after the retries."""


class AuthError(DeployError):
    """401 or 403: the credentials are wrong or lack a permission. Raised before any write."""


class OwnershipError(DeployError):
    """An object deploy would write exists but is not ours (e.g. a dashboard without our tag)."""


class ApiError(DeployError):
    """A non-2xx answer, carrying the server's own message."""

    def __init__(self, service: str, method: str, path: str, status: int, message: str) -> None:
        self.service = service
        self.method = method
        self.path = path
        self.status = status
        self.server_message = message
        super().__init__(f"{service} answered {status} to {method} {path}: {message}")


class ConflictError(ApiError):
    """412 (or 409): the object changed on the server since the plan read it."""


class RejectedError(DeployError):
    """The evaluator refused the rules (Prometheus reload failed); the message is its own."""
