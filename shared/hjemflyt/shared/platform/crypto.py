"""Protection of identity numbers at rest: AES-256-GCM for the value, HMAC-SHA256 as a
blind index so a number can be found without being stored in clear. Keys come from
settings; production refuses the development keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def _key(material: str) -> bytes:
    raw = base64.urlsafe_b64decode(material.encode())
    if len(raw) != 32:
        raise ValueError("keys must be 32 bytes, url-safe base64 encoded")
    return raw


class FieldCipher:
    def __init__(self, key: str, index_key: str, *, associated: bytes = b"hjemflyt") -> None:
        self._aead = AESGCM(_key(key))
        self._index_key = _key(index_key)
        self._associated = associated

    def encrypt(self, value: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, value.encode(), self._associated)

    def decrypt(self, blob: bytes) -> str:
        return self._aead.decrypt(blob[:12], blob[12:], self._associated).decode()

    def index(self, value: str) -> str:
        return hmac.new(self._index_key, value.encode(), hashlib.sha256).hexdigest()


class BusSealer:
    """Seals personal data carried in events (contracts/sealed.py): AES-256-GCM under the
    bus key, a token of url-safe base64. Apart from the at-rest key: rotating one does not
    touch the other."""

    def __init__(self, key: str) -> None:
        self._aead = AESGCM(_key(key))

    def seal(self, plain: str) -> str:
        nonce = os.urandom(12)
        return base64.urlsafe_b64encode(
            nonce + self._aead.encrypt(nonce, plain.encode(), b"hjemflyt-bus")
        ).decode()

    def open(self, token: str) -> str:
        blob = base64.urlsafe_b64decode(token.encode())
        return self._aead.decrypt(blob[:12], blob[12:], b"hjemflyt-bus").decode()
