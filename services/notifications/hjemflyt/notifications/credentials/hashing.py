"""Client secrets: generation and salted scrypt hashes (pure, CPU-bound; no IO).

Hand-rolled on the standard library rather than passlib/argon2-cffi: `hashlib.scrypt` is a
memory-hard KDF already in CPython, the secrets hashed here are 256-bit random values (so
the KDF guards a stolen table, not weak passwords), and it avoids a native dependency for
a dozen lines. The parameters are stored beside each hash, so they can be raised later.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

CLIENT_ID_PREFIX = "hjc_"
SECRET_PREFIX = "hjs_"  # noqa: S105 (a prefix, not a secret)

# 16 MiB and roughly 30-60 ms per hash on one core.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
KDF = f"scrypt:n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}"
_MAX_SECRET_CHARS = 200


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + secrets.token_urlsafe(16)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _params(kdf: str) -> tuple[int, int, int]:
    name, _, rest = kdf.partition(":")
    if name != "scrypt":
        raise ValueError(f"unknown kdf {name}")
    values = dict(part.split("=") for part in rest.split(","))
    return int(values["n"]), int(values["r"]), int(values["p"])


def hash_secret(secret: str, salt: bytes, kdf: str = KDF) -> bytes:
    n, r, p = _params(kdf)
    data = secret.encode()[:_MAX_SECRET_CHARS]
    return hashlib.scrypt(data, salt=salt, n=n, r=r, p=p, dklen=32, maxmem=64 * 1024 * 1024)


def new_hash(secret: str) -> tuple[bytes, bytes, str]:
    salt = secrets.token_bytes(16)
    return hash_secret(secret, salt), salt, KDF


# Hashed when the client is unknown or revoked, so every failure costs the same time.
_DUMMY_SALT = secrets.token_bytes(16)
_DUMMY_HASH = hash_secret(new_secret(), _DUMMY_SALT)


def verify(secret: str, stored: tuple[bytes, bytes, str] | None) -> bool:
    """Constant-time check of `secret` against (hash, salt, kdf); None (no such client)
    spends the same work and fails."""
    if stored is None:
        hmac.compare_digest(hash_secret(secret, _DUMMY_SALT), _DUMMY_HASH)
        return False
    digest, salt, kdf = stored
    return hmac.compare_digest(hash_secret(secret, salt, kdf), digest)
