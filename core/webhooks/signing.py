"""Standard Webhooks signatures: ``v1,`` + base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}")).

Secrets read ``whsec_`` + base64 of 32 random bytes, as the specification's libraries expect.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret


def secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signature_header(secrets_in_use: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """One signature per valid secret, space-separated: receivers accept the message if any matches."""
    return " ".join(signature(secret, message_id, timestamp, body) for secret in secrets_in_use)
