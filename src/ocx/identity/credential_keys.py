"""The key that encrypts ``/v3/credentials`` blobs at rest, and the encryption itself.

Fernet (AES-CBC with an HMAC) under a key kept in a file of the landlord's data directory,
never in the database: a copy of the database alone (a backup, a replica, an injected query)
reveals no secret.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from ocx.common import errors

KEY_FILE = "identity-credential.key"


def cipher(data_dir: Path) -> Fernet:
    """The landlord's credential cipher; its key file is made (mode 0600) on first use."""
    path = data_dir / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return Fernet(path.read_bytes().strip())
    with os.fdopen(fd, "wb") as out:
        out.write(Fernet.generate_key())
        out.flush()
        os.fsync(out.fileno())
    return Fernet(path.read_bytes().strip())


def seal(fernet: Fernet, blob: str) -> str:
    return fernet.encrypt(blob.encode()).decode()


def unseal(fernet: Fernet, stored: str) -> str:
    try:
        return fernet.decrypt(stored.encode()).decode()
    except InvalidToken:
        # The key file was replaced: the secret is lost, and must not be guessed at.
        raise errors.ServiceUnavailable("A credential could not be decrypted.") from None
