"""Domain errors. Logic raises these; the API maps them to HTTP in one place.

Every error carries a stable `code`, a message that tells the user what to do, and the field at
fault when there is one, so that every rejection renders as
`{"error": {"code", "message", "field", "details"}}`.
"""

from __future__ import annotations

from typing import Any


class MlhooksError(Exception):
    status: int = 400
    code: str = "bad_request"

    def __init__(
        self, message: str, *, field: str | None = None, details: list[dict[str, Any]] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or ([{"field": field, "message": message}] if field else [])

    def to_body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "field": self.field,
                "details": self.details,
            }
        }


class BadRequest(MlhooksError):
    status, code = 400, "bad_request"


class ValidationFailed(MlhooksError):
    """The request does not have the documented shape (types, required fields, lengths)."""

    status, code = 400, "validation_error"


class Unauthorized(MlhooksError):
    status, code = 401, "unauthorized"


class Forbidden(MlhooksError):
    status, code = 403, "forbidden"


class NotFound(MlhooksError):
    status, code = 404, "not_found"


class Conflict(MlhooksError):
    status, code = 409, "conflict"


class PreconditionFailed(MlhooksError):
    status, code = 412, "precondition_failed"


class PayloadTooLarge(MlhooksError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(MlhooksError):
    status, code = 415, "unsupported_media_type"


class InvalidInput(MlhooksError):
    """Well-formed, but not acceptable: an unknown scope, a regex re2 rejects, an unknown variable."""

    status, code = 422, "invalid_input"


class BlockedDestination(InvalidInput):
    """The outbound guard refused a URL or the address it resolves to."""

    code = "blocked_destination"


class UnresolvableDestination(InvalidInput):
    """The destination's host name does not resolve."""

    code = "unresolvable_destination"


class BusUnavailable(MlhooksError):
    """EventBridge refused events; the publisher should publish again (events dedupe on their id)."""

    status, code = 503, "bus_unavailable"


class UnsendableSecret(InvalidInput):
    """A secret's value cannot be sent where it is used (a token that is not visible ASCII)."""

    code = "unsendable_secret"


class SlackAppNotConfigured(Conflict):
    """ "Connect Slack" needs the stack's Slack app (its client id and secret), which the operator gives."""

    code = "slack_app_not_configured"


class SlackRefused(InvalidInput):
    """Slack answered the OAuth exchange with `ok: false` (an invalid or used code, a bad client)."""

    code = "slack_refused"


class SlackUnavailable(MlhooksError):
    """Slack could not be reached, or answered something that is not its API's answer."""

    status, code = 502, "slack_unavailable"


def listing(names: list[str], most: int = 5) -> str:
    """Names for a message, at most `most` of them: "a, b, c and 27 more"."""
    if len(names) <= most:
        return ", ".join(names)
    return f"{', '.join(names[:most])} and {len(names) - most} more"
