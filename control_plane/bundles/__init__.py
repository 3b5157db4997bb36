"""The bundle store: project archives uploaded by `pushflow deploy`, named by sha256.

One seam per backend, shared with result storage (runtime/results.py): a local folder
(local mode only: a stateless control plane on Lambda has no folder another process can
see), `s3://bucket/prefix`, `gs://bucket/prefix` or `az://container/prefix`. Set it with
`PUSHFLOW_BUNDLE_STORE`. A backend that can sign URLs lets runtimes download straight
from the object store; the others stream through the API with the run's token.

Uploads likewise: where the backend signs PUT URLs, `pushflow deploy` puts the archive
straight into the store under `uploads/<sha256>.tar.gz` (so no API body limit applies),
then asks the control plane to commit it: the server checks its size and sha256 and only
then stores it as `bundles/<sha256>.tar.gz`, the name deploys and runs look for. An
abandoned upload stays under `uploads/`; an object-store lifecycle rule on that prefix
(one day) clears it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from runtime.results import storage_from


class BundleHashError(ValueError):
    """The bytes do not hash to the name they were uploaded under."""


class BundleTooLargeError(ValueError):
    """The upload is over the store's size limit."""


class BundleUploadMissingError(LookupError):
    """Nothing was uploaded under that hash."""


class BundleStore:
    def __init__(self, storage: Any) -> None:
        self.storage = storage

    @staticmethod
    def key(sha256: str) -> str:
        return f"bundles/{sha256}.tar.gz"

    @staticmethod
    def upload_key(sha256: str) -> str:
        return f"uploads/{sha256}.tar.gz"

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

    def upload_target(self, sha256: str, expires_seconds: int) -> tuple[str, dict[str, str]] | None:
        """A short-lived signed PUT (URL, headers the PUT must carry) for the archive, or
        None when the backend cannot sign one (then it goes through the API)."""
        target = getattr(self.storage, "upload_target", None)
        return target(self.upload_key(sha256), expires_seconds) if target is not None else None

    def commit(self, sha256: str, max_bytes: int) -> int:
        """Store the uploaded archive under its name once its size and hash check out;
        returns its size. A bad upload is deleted, so it can be sent again."""
        staged = self.upload_key(sha256)
        size = self.storage.size(staged)
        if size is None:
            if self.exists(sha256):  # committed already (by another deploy of the same code)
                return int(self.storage.size(self.key(sha256)) or 0)
            raise BundleUploadMissingError(f"nothing was uploaded for bundle {sha256}; upload it, then commit")
        try:
            if size > max_bytes:
                raise BundleTooLargeError(
                    f"the bundle is {size} bytes, over {max_bytes}; add large files to .pushflowignore or raise "
                    "PUSHFLOW_BUNDLE_MAX_BYTES"
                )
            self.put(sha256, self.storage.read(staged) or b"")
        finally:
            self.storage.delete(staged)
        return int(size)

    def __repr__(self) -> str:
        return f"BundleStore({self.storage!r})"


def bundle_store(spec: str) -> BundleStore:
    """The store at `spec`: a folder path or an s3://, gs:// or az:// URL."""
    return BundleStore(storage_from(spec))
