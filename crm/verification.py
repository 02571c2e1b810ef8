"""The IVR verification secret (服务密码): stored only as a salted scrypt hash, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# scrypt's cost: tens of milliseconds and 16 MiB per check, so that a stolen table of six-digit secrets is
# slow to guess.
_N, _R, _P, _LENGTH = 2**14, 8, 1, 32


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_LENGTH)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str | None) -> bool:
    """True if `secret` is the one `stored` was made from; False for no stored hash or one this cannot read."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(digest)
        actual = hashlib.scrypt(
            secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)
