"""Request signatures: W&B's `X-Wandb-Signature` and Standard Webhooks' `webhook-signature`.

Both are HMAC-SHA256 over the exact body bytes that are sent, so a receiver must verify the raw
body, never a re-serialised one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from mlhooks.models.vocabulary import SignatureEncoding

WANDB_SIGNATURE_HEADER = "X-Wandb-Signature"
WEBHOOK_ID_HEADER = "webhook-id"
WEBHOOK_TIMESTAMP_HEADER = "webhook-timestamp"
WEBHOOK_SIGNATURE_HEADER = "webhook-signature"
STANDARD_WEBHOOKS_SECRET_PREFIX = "whsec_"  # noqa: S105 - the spec's prefix


def sign_wandb(secret: str, body: bytes, encoding: SignatureEncoding = SignatureEncoding.HEX) -> str:
    """HMAC-SHA256 of the body keyed by the signing secret, hex (W&B's current guide) or base64."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return digest.hex() if encoding is SignatureEncoding.HEX else base64.b64encode(digest).decode("ascii")


def standard_webhooks_key(secret: str) -> bytes:
    """The HMAC key: a `whsec_<base64>` secret is decoded, as Standard Webhooks libraries do; any other
    secret is used as its UTF-8 bytes (a receiver then passes `whsec_` + base64 of those bytes)."""
    if secret.startswith(STANDARD_WEBHOOKS_SECRET_PREFIX):
        try:
            return base64.b64decode(secret.removeprefix(STANDARD_WEBHOOKS_SECRET_PREFIX), validate=True)
        except ValueError:
            pass
    return secret.encode("utf-8")


def sign_v1(key: bytes, message_id: str, timestamp: int | str, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 over "{id}.{timestamp}.{body}">`: Standard Webhooks' scheme, which
    MLflow's webhooks use too (keyed by the secret's UTF-8 bytes, whatever it looks like)."""
    signed = message_id.encode("utf-8") + b"." + str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def sign_standard_webhooks(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    return sign_v1(standard_webhooks_key(secret), message_id, timestamp, body)
