"""ed25519 keys for lab packs: make a key pair, sign a manifest, check a signature.

A public key is kept as one line of text, ``ed25519:<base64 of the 32 raw bytes>``, so a teacher
can read it, compare it and copy it onto a stick; its id is the first 16 hex digits of its
sha256. A private key is a PKCS#8 PEM file written with mode 0600 and never packed or served.

cryptography is imported inside the functions: listing labs at a kit's start reads pack
metadata but checks no signature, and should not pay for loading it.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                                   Ed25519PublicKey)

PREFIX = "ed25519:"


class BadKey(ValueError):
    """A key file that is not an ed25519 key in the expected form."""


def public_text(key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PREFIX + base64.b64encode(raw).decode("ascii")


def parse_public(text: str) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    text = text.strip()
    if not text.startswith(PREFIX):
        raise BadKey("not an ed25519 public key line")
    try:
        raw = base64.b64decode(text[len(PREFIX):], validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise BadKey("not an ed25519 public key line") from None


def key_id(key: Ed25519PublicKey | str) -> str:
    text = key if isinstance(key, str) else public_text(key)
    return hashlib.sha256(text.strip().encode("ascii")).hexdigest()[:16]


def generate(private_path: Path) -> Ed25519PublicKey:
    """A new key pair: the private key written to `private_path` (0600), the public returned."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    private_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key.public_key()


def load_private(path: Path) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        raise BadKey("not a readable ed25519 private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BadKey("not an ed25519 private key")
    return key


def sign(key: Ed25519PrivateKey, data: bytes) -> str:
    return base64.b64encode(key.sign(data)).decode("ascii")


def verify(key: Ed25519PublicKey, data: bytes, signature: str) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True
