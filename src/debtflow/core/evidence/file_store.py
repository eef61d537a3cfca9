"""Content-addressed storage of evidence files (recordings, photos, letters, signatures).

A file is stored under the SHA-256 of its bytes, so the hash a leaf carries is also its
address and a stored file can be checked on every read.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from debtflow.core.evidence.leaf import is_sha256_hex

_CHUNK = 1 << 20


class EvidenceFileError(ValueError):
    """A digest is malformed, a file is missing, or stored bytes no longer match their hash."""


def content_path(sha256_hex: str) -> PurePosixPath:
    """Relative storage path of a file with this digest: ``sha256/ab/cd/abcd…`` (64 hex)."""
    if not is_sha256_hex(sha256_hex):
        raise EvidenceFileError(f"{sha256_hex!r} is not a lowercase hex SHA-256 digest")
    return PurePosixPath("sha256", sha256_hex[:2], sha256_hex[2:4], sha256_hex)


def sha256_hex(content: bytes) -> str:
    """Lowercase hex SHA-256 of ``content``."""
    return hashlib.sha256(content).hexdigest()


class EvidenceFileStore:
    """Files under ``root`` at :func:`content_path`; writes are atomic, reads are verified."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_of(self, digest: str) -> Path:
        return self.root / Path(*content_path(digest).parts)

    def contains(self, digest: str) -> bool:
        return self.path_of(digest).is_file()

    def put(self, content: bytes) -> str:
        """Store ``content``; return its digest. Storing the same bytes twice is a no-op."""
        digest = sha256_hex(content)
        if not self.contains(digest):
            self._write(digest, [content])
        return digest

    def put_stream(self, stream: BinaryIO) -> str:
        """Store a file read from ``stream`` without holding it in memory; return its digest."""
        self.root.mkdir(parents=True, exist_ok=True)
        hasher = hashlib.sha256()
        handle, temporary = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as sink:
                while chunk := stream.read(_CHUNK):
                    hasher.update(chunk)
                    sink.write(chunk)
                sink.flush()
                os.fsync(sink.fileno())
            digest = hasher.hexdigest()
            target = self.path_of(digest)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return digest

    def read(self, digest: str) -> bytes:
        """The stored bytes, checked against ``digest``."""
        path = self.path_of(digest)
        try:
            content = path.read_bytes()
        except FileNotFoundError as exc:
            raise EvidenceFileError(f"no stored file with SHA-256 {digest}") from exc
        if sha256_hex(content) != digest:
            raise EvidenceFileError(f"stored file {path} no longer matches its SHA-256 {digest}")
        return content

    def _write(self, digest: str, chunks: list[bytes]) -> None:
        target = self.path_of(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as sink:
                for chunk in chunks:
                    sink.write(chunk)
                sink.flush()
                os.fsync(sink.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
