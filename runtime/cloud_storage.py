"""Result storage (and the control plane's bundle store) on Google Cloud Storage and
Azure Blob Storage: the same `read(key)` / `write(key, data)` as the local folder and S3
(runtime/results.py), plus `exists(key)` and `presigned_url(key, seconds)` (None when
the credentials cannot sign). Each SDK is imported on first use, with the extra to install.

- `gs://bucket/prefix`: google-cloud-storage with Application Default Credentials;
  `STORAGE_EMULATOR_HOST` (Google's documented emulator switch) talks to an emulator.
- `az://container/prefix`: azure-storage-blob with `AZURE_STORAGE_CONNECTION_STRING`, or
  `AZURE_STORAGE_ACCOUNT` (+ azure-identity's DefaultAzureCredential). A connection
  string with an account key can sign (SAS) URLs.
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime, timedelta, timezone
from typing import Any


def _missing(what: str, extra: str, exc: ImportError) -> ImportError:
    return ImportError(f'{what} needs {exc.name}: pip install "pushflow[{extra}]"')


class _Prefixed:
    prefix = ""

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def __getstate__(self) -> dict[str, Any]:  # clients do not pickle (Dask workers)
        return {**self.__dict__, "_client": None}


class GcsStorage(_Prefixed):
    def __init__(self, bucket: str, prefix: str = "", *, project: str | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.project = project
        self._client: Any = None

    def _bucket(self) -> Any:
        if self._client is None:
            try:
                from google.cloud import storage  # type: ignore[attr-defined]
            except ImportError as exc:
                raise _missing("Google Cloud Storage", "gcs", exc) from exc
            if os.environ.get("STORAGE_EMULATOR_HOST"):
                from google.auth.credentials import AnonymousCredentials

                self._client = storage.Client(project=self.project or "pushflow", credentials=AnonymousCredentials())
            else:
                self._client = storage.Client(project=self.project)
        return self._client.bucket(self.bucket)

    def read(self, key: str) -> bytes | None:
        from google.api_core.exceptions import NotFound

        try:
            return self._bucket().blob(self._key(key)).download_as_bytes()  # type: ignore[no-any-return]
        except NotFound:
            return None

    def write(self, key: str, data: bytes) -> None:
        self._bucket().blob(self._key(key)).upload_from_string(data, content_type="application/octet-stream")

    def exists(self, key: str) -> bool:
        return bool(self._bucket().blob(self._key(key)).exists())

    def presigned_url(self, key: str, seconds: int) -> str | None:
        blob = self._bucket().blob(self._key(key))
        try:
            return blob.generate_signed_url(version="v4", expiration=timedelta(seconds=seconds), method="GET")  # type: ignore[no-any-return]
        except (AttributeError, TypeError, ValueError):  # credentials that cannot sign
            return None

    @property
    def url(self) -> str:
        return f"gs://{self.bucket}/{self.prefix}"

    def __repr__(self) -> str:
        return f"GcsStorage({self.url!r})"


class AzureBlobStorage(_Prefixed):
    def __init__(self, container: str, prefix: str = "", *, connection_string: str | None = None) -> None:
        self.container = container
        self.prefix = prefix.strip("/")
        self.connection_string = connection_string
        self._client: Any = None

    def _service(self) -> Any:
        if self._client is None:
            try:
                from azure.storage.blob import BlobServiceClient
            except ImportError as exc:
                raise _missing("Azure Blob Storage", "azure-blob", exc) from exc
            connection = self.connection_string or os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
            if connection:
                self._client = BlobServiceClient.from_connection_string(connection)
            else:
                account = os.environ.get("AZURE_STORAGE_ACCOUNT")
                if not account:
                    raise ValueError("az:// storage needs AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT set")
                from azure.identity import DefaultAzureCredential

                url = f"https://{account}.blob.core.windows.net"
                self._client = BlobServiceClient(url, credential=DefaultAzureCredential())
        return self._client

    def _blob(self, key: str) -> Any:
        return self._service().get_blob_client(self.container, self._key(key))

    def read(self, key: str) -> bytes | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return self._blob(key).download_blob().readall()  # type: ignore[no-any-return]
        except ResourceNotFoundError:
            return None

    def write(self, key: str, data: bytes) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            self._blob(key).upload_blob(data, overwrite=True)
        except ResourceNotFoundError:  # the container is not there yet
            from azure.core.exceptions import ResourceExistsError

            with contextlib.suppress(ResourceExistsError):  # made meanwhile by another writer
                self._service().create_container(self.container)
            self._blob(key).upload_blob(data, overwrite=True)

    def exists(self, key: str) -> bool:
        return bool(self._blob(key).exists())

    def presigned_url(self, key: str, seconds: int) -> str | None:
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        service = self._service()
        account_key = getattr(service.credential, "account_key", None)
        if not account_key:  # a token credential: no account key to sign with
            return None
        blob = self._blob(key)
        sas = generate_blob_sas(
            account_name=service.account_name,
            container_name=self.container,
            blob_name=self._key(key),
            account_key=account_key,
            permission=BlobSasPermissions(read=True),
            expiry=datetime.now(timezone.utc) + timedelta(seconds=seconds),
        )
        return f"{blob.url}?{sas}"

    @property
    def url(self) -> str:
        return f"az://{self.container}/{self.prefix}"

    def __repr__(self) -> str:
        return f"AzureBlobStorage({self.url!r})"
