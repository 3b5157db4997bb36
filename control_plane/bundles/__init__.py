"""The bundle store: project archives uploaded by `pushflow deploy`, named by sha256.

One seam per backend, shared with result storage (runtime/results.py): a local folder
(local mode only: a stateless control plane on Lambda has no folder another process can
see), `s3://bucket/prefix`, `gs://bucket/prefix` or `az://container/prefix`. Set it with
`PUSHFLOW_BUNDLE_STORE`. A backend that can sign URLs lets runtimes download straight
from the object store; the others stream through the API with the run's token.
"""

from __future__ import annotations

import hashlib
from typing import Any

from runtime.results import storage_from


class BundleHashError(ValueError):
    """The bytes do not hash to the name they were uploaded under."""


class BundleStore:
    def __init__(self, storage: Any) -> None:
        self.storage = storage

    @staticmethod
    def key(sha256: str) -> str:
        return f"bundles/{sha256}.tar.gz"

    def exists(self, sha256: str) -> bool:
        exists = getattr(self.storage, "exists", None)
        if exists is not None:
            return bool(exists(self.key(sha256)))
        return self.storage.read(self.key(sha256)) is not None

    def put(self, sha256: str, data: bytes) -> None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise BundleHashError(f"the upload hashes to {actual}, not {sha256}; upload the archive unchanged")
        if not self.exists(sha256):  # content-addressed: the same name is the same bytes
            self.storage.write(self.key(sha256), data)

    def get(self, sha256: str) -> bytes | None:
        return self.storage.read(self.key(sha256))  # type: ignore[no-any-return]

    def download_url(self, sha256: str, expires_seconds: int) -> str | None:
        """A short-lived signed URL, or None when the backend cannot sign one."""
        presign = getattr(self.storage, "presigned_url", None)
        return presign(self.key(sha256), expires_seconds) if presign is not None else None

    def __repr__(self) -> str:
        return f"BundleStore({self.storage!r})"


def bundle_store(spec: str) -> BundleStore:
    """The store at `spec`: a folder path or an s3://, gs:// or az:// URL."""
    return BundleStore(storage_from(spec))
