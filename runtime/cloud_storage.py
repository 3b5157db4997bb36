"""Result storage (and the control plane's bundle store) on Google Cloud Storage and
Azure Blob Storage: the same `read(key)` / `write(key, data)` as the local folder and S3
(runtime/results.py), plus `exists(key)` and `presigned_url(key, seconds)` (None when
the credentials cannot sign). Each SDK is imported on first use, with the extra to install.

- `gs://bucket/prefix`: google-cloud-storage with Application Default Credentials;
  `STORAGE_EMULATOR_HOST` (Google's documented emulator switch) talks to an emulator,
  anonymously unless GOOGLE_APPLICATION_CREDENTIALS names a service-account key, which
  then signs URLs for that host.
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
            key_file = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
            if os.environ.get("STORAGE_EMULATOR_HOST") and key_file:
                from google.oauth2 import service_account

                credentials = service_account.Credentials.from_service_account_file(key_file)
                self._client = storage.Client(project=self.project or "pushflow", credentials=credentials)
            elif os.environ.get("STORAGE_EMULATOR_HOST"):
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

    def size(self, key: str) -> int | None:
        blob = self._bucket().get_blob(self._key(key))
        return None if blob is None else int(blob.size)

    def delete(self, key: str) -> None:
        from google.api_core.exceptions import NotFound

        with contextlib.suppress(NotFound):
            self._bucket().blob(self._key(key)).delete()

    def presigned_url(self, key: str, seconds: int) -> str | None:
        return self._signed(key, seconds, "GET")

    def upload_target(self, key: str, seconds: int) -> tuple[str, dict[str, str]] | None:
        url = self._signed(key, seconds, "PUT")
        return None if url is None else (url, {})

    def _signed(self, key: str, seconds: int, method: str) -> str | None:
        """A V4 signed URL ("V4 signing process with Cloud Storage tools")."""
        blob = self._bucket().blob(self._key(key))
        # The emulator serves signed-URL paths (/bucket/object) at its own address.
        endpoint = os.environ.get("STORAGE_EMULATOR_HOST") or "https://storage.googleapis.com"
        expiration = timedelta(seconds=seconds)
        try:
            return blob.generate_signed_url(  # type: ignore[no-any-return]
                version="v4", expiration=expiration, method=method, api_access_endpoint=endpoint
            )
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

    def size(self, key: str) -> int | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return int(self._blob(key).get_blob_properties().size)
        except ResourceNotFoundError:
            return None

    def delete(self, key: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        with contextlib.suppress(ResourceNotFoundError):
            self._blob(key).delete_blob()

    def presigned_url(self, key: str, seconds: int) -> str | None:
        from azure.storage.blob import BlobSasPermissions

        return self._sas_url(key, seconds, BlobSasPermissions(read=True))

    def upload_target(self, key: str, seconds: int) -> tuple[str, dict[str, str]] | None:
        """A service SAS allowing create/write of this one blob; Put Blob needs the
        `x-ms-blob-type: BlockBlob` header ("Put Blob", Blob service REST API)."""
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import BlobSasPermissions

        url = self._sas_url(key, seconds, BlobSasPermissions(create=True, write=True))
        if url is None:
            return None
        with contextlib.suppress(ResourceExistsError):  # a SAS cannot create the container
            self._service().create_container(self.container)
        return url, {"x-ms-blob-type": "BlockBlob"}

    def _sas_url(self, key: str, seconds: int, permission: Any) -> str | None:
        from azure.storage.blob import generate_blob_sas

        service = self._service()
        account_key = getattr(service.credential, "account_key", None)
        if not account_key:  # a token credential: no account key to sign with
            return None
        sas = generate_blob_sas(
            account_name=service.account_name,
            container_name=self.container,
            blob_name=self._key(key),
            account_key=account_key,
            permission=permission,
            expiry=datetime.now(timezone.utc) + timedelta(seconds=seconds),
        )
        return f"{self._blob(key).url}?{sas}"

    @property
    def url(self) -> str:
        return f"az://{self.container}/{self.prefix}"

    def __repr__(self) -> str:
        return f"AzureBlobStorage({self.url!r})"
