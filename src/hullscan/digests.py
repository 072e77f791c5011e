"""Digests of small inputs (image configs, manifests, cache keys) without loading OpenSSL.

The first `import hashlib` loads OpenSSL's libcrypto: ~4 ms, 5% of a warm scan, which hashes only a
few kilobytes. For SHA-256 of such inputs CPython's own built-in module (what hashlib falls back to
without OpenSSL) is as good. Bulk hashing (layer blobs, hundreds of MB) keeps hashlib: OpenSSL's
SHA-256 is several times faster there.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from typing import Any

if TYPE_CHECKING:  # the built-in modules have no stubs; hashlib's sha256 is the same interface
    from hashlib import sha256
else:
    try:
        from _sha2 import sha256  # CPython 3.12 and later
    except ImportError:
        try:
            from _sha256 import sha256  # CPython 3.11
        except ImportError:  # pragma: no cover - another Python: hashlib's
            from hashlib import sha256


def hexdigest(algo: str, data: bytes) -> str:
    """The hex digest of `data` by an OCI digest algorithm name (sha256, sha512)."""
    if algo == "sha256":
        return sha256(data).hexdigest()
    return bulk_hash(algo, data).hexdigest()


def bulk_hash(algo: str, data: bytes = b"") -> Any:
    """hashlib's (OpenSSL's) hash object for large data, imported on first use."""
    import hashlib

    return hashlib.new(algo, data)
