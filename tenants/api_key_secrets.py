"""The shape of an API key and how its secret is checked.

A key reads ``tl_<prefix>_<secret>``: the prefix (public, stored) finds the row, the secret
(256 random bits, never stored) is checked against its SHA-256 in constant time. A slow hash
adds nothing for a secret of that entropy and would cost every request.
"""

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass

KEY_SCHEME = "tl"
PREFIX_LENGTH = 12
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class ParsedKey:
    prefix: str
    secret: str


def new_key() -> tuple[str, str, str]:
    """Return (full key to show once, prefix to store, hash to store)."""
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    secret = secrets.token_urlsafe(32)
    return f"{KEY_SCHEME}_{prefix}_{secret}", prefix, hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_key(raw: str) -> ParsedKey | None:
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_SCHEME:
        return None
    prefix, secret = parts[1], parts[2]
    if len(prefix) != PREFIX_LENGTH or any(c not in _PREFIX_ALPHABET for c in prefix) or len(secret) < 32:
        return None
    return ParsedKey(prefix=prefix, secret=secret)


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
