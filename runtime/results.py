"""Result storage and serializers: where persisted task results and cache records live.

A storage is anything with `read(key) -> bytes | None` and `write(key, data)`. Built in:
a local folder (the default, `~/.pushflow/storage`), S3 (boto3), and Google Cloud Storage
and Azure Blob Storage (runtime/cloud_storage.py); each SDK is imported on first use.
`storage_from` names the URL schemes it knows. `PUSHFLOW_RESULT_STORAGE` sets the default
(a path or an `s3://`, `gs://` or `az://` URL) so every container of a deployment shares one
store. Every built-in one also answers `exists(key)`, `size(key)` and `delete(key)`; the
cloud ones `presigned_url(key, seconds)` (a GET) and `upload_target(key, seconds)` (a
signed PUT: its URL and the headers it must carry), None when the credentials cannot sign.

A record is one JSON header line (serializer, expiry) followed by the serialized value.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol


class ResultStorage(Protocol):
    def read(self, key: str) -> bytes | None: ...
    def write(self, key: str, data: bytes) -> None: ...


class LocalFileStorage:
    def __init__(self, basepath: str | Path) -> None:
        self.basepath = Path(basepath).expanduser()

    def read(self, key: str) -> bytes | None:
        try:
            return (self.basepath / key).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, key: str, data: bytes) -> None:
        path = self.basepath / key
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a concurrent reader never sees half a record.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)

    def exists(self, key: str) -> bool:
        return (self.basepath / key).is_file()

    def size(self, key: str) -> int | None:
        path = self.basepath / key
        return path.stat().st_size if path.is_file() else None

    def delete(self, key: str) -> None:
        (self.basepath / key).unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"LocalFileStorage({str(self.basepath)!r})"


class S3Storage:
    """Results in an S3 bucket. `client_kwargs` go to `boto3.client("s3", ...)`
    (endpoint_url, region_name, credentials); boto3 also reads AWS_* variables."""

    def __init__(self, bucket: str, prefix: str = "", **client_kwargs: Any) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client_kwargs = client_kwargs
        self._client: Any = None

    def _s3(self) -> Any:
        if self._client is None:
            try:
                import boto3
            except ImportError as exc:
                raise ImportError('S3 result storage needs boto3: pip install "pushflow[aws]"') from exc
            self._client = boto3.client("s3", **self.client_kwargs)
        return self._client

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def read(self, key: str) -> bytes | None:
        s3 = self._s3()
        try:
            return s3.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()  # type: ignore[no-any-return]
        except s3.exceptions.NoSuchKey:
            return None

    def write(self, key: str, data: bytes) -> None:
        self._s3().put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def exists(self, key: str) -> bool:
        s3 = self._s3()
        try:
            s3.head_object(Bucket=self.bucket, Key=self._key(key))
        except s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def size(self, key: str) -> int | None:
        s3 = self._s3()
        try:
            return int(s3.head_object(Bucket=self.bucket, Key=self._key(key))["ContentLength"])
        except s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def delete(self, key: str) -> None:
        self._s3().delete_object(Bucket=self.bucket, Key=self._key(key))

    def presigned_url(self, key: str, seconds: int) -> str:
        params = {"Bucket": self.bucket, "Key": self._key(key)}
        return self._s3().generate_presigned_url("get_object", Params=params, ExpiresIn=seconds)  # type: ignore[no-any-return]

    def upload_target(self, key: str, seconds: int) -> tuple[str, dict[str, str]]:
        """A SigV4 presigned PutObject URL ("Uploading objects with presigned URLs")."""
        params = {"Bucket": self.bucket, "Key": self._key(key)}
        return self._s3().generate_presigned_url("put_object", Params=params, ExpiresIn=seconds), {}

    def __getstate__(self) -> dict[str, Any]:  # clients do not pickle (Dask workers)
        return {**self.__dict__, "_client": None}

    def __repr__(self) -> str:
        return f"S3Storage('s3://{self.bucket}/{self.prefix}')"


def default_storage() -> ResultStorage:
    configured = os.environ.get("PUSHFLOW_RESULT_STORAGE")
    if configured:
        return storage_from(configured)
    from runtime import config

    return LocalFileStorage(config.home() / "storage")


def storage_from(spec: Any) -> ResultStorage:
    """A storage from a storage object, a folder path, or a URL (file://, s3://, gs://, az://)."""
    if spec is None:
        return default_storage()
    if not isinstance(spec, (str, Path)):
        return spec  # type: ignore[no-any-return]
    text = str(spec)
    scheme, sep, rest = text.partition("://")
    if not sep:
        return LocalFileStorage(text)
    if scheme == "file":
        return LocalFileStorage(rest)
    if scheme == "s3":
        bucket, _, prefix = rest.partition("/")
        return S3Storage(bucket, prefix)
    if scheme in ("gs", "az"):
        from runtime.cloud_storage import AzureBlobStorage, GcsStorage

        bucket, _, prefix = rest.partition("/")
        return GcsStorage(bucket, prefix) if scheme == "gs" else AzureBlobStorage(bucket, prefix)
    raise ValueError(f"result storage {text!r}: unknown scheme {scheme!r}; use a path, file://, s3://, gs:// or az://")


def storage_url(storage: Any) -> str | None:
    """Where `storage` is, as `storage_from` reads it back (None for custom storages)."""
    if isinstance(storage, LocalFileStorage):
        return str(storage.basepath)
    if isinstance(storage, S3Storage):
        return f"s3://{storage.bucket}/{storage.prefix}"
    return getattr(storage, "url", None)  # gs://, az:// (runtime/cloud_storage.py)


# Serializers ---------------------------------------------------------------------------


class PickleSerializer:
    """cloudpickle: any Python value, read back by the same Python and libraries."""

    name = "pickle"

    def dumps(self, value: Any) -> bytes:
        import cloudpickle

        return cloudpickle.dumps(value)  # type: ignore[no-any-return]

    def loads(self, data: bytes) -> Any:
        import pickle

        return pickle.loads(data)  # noqa: S301 - our own records


class JSONSerializer:
    """JSON: readable by anything, for values JSON can hold."""

    name = "json"

    def dumps(self, value: Any) -> bytes:
        try:
            return json.dumps(value).encode()
        except TypeError as exc:
            raise TypeError(f"result is not JSON serializable ({exc}); use result_serializer='pickle'") from None

    def loads(self, data: bytes) -> Any:
        return json.loads(data)


SERIALIZERS = {"pickle": PickleSerializer, "json": JSONSerializer}


def serializer_from(spec: Any) -> Any:
    if spec is None:
        return PickleSerializer()
    if isinstance(spec, str):
        try:
            return SERIALIZERS[spec]()
        except KeyError:
            raise ValueError(f"unknown result serializer {spec!r}; use one of {sorted(SERIALIZERS)}") from None
    return spec


# Records -------------------------------------------------------------------------------


def write_record(storage: ResultStorage, key: str, value: Any, serializer: Any, expires: float | None = None) -> None:
    header = json.dumps({"serializer": serializer.name, "expires": expires}).encode()
    storage.write(key, header + b"\n" + serializer.dumps(value))


class Missing:
    """No record (or an expired one)."""


MISSING = Missing()


def read_record(storage: ResultStorage, key: str) -> Any:
    """The value stored under `key`, or MISSING if absent or expired."""
    data = storage.read(key)
    if data is None:
        return MISSING
    header_line, _, payload = data.partition(b"\n")
    header = json.loads(header_line)
    if header.get("expires") is not None and header["expires"] < time.time():
        return MISSING
    return serializer_from(header["serializer"]).loads(payload)


def load_result(key: str, storage: Any = None) -> Any:
    """Read back a persisted result (e.g. `state.result_key`)."""
    value = read_record(storage_from(storage), key)
    if value is MISSING:
        raise KeyError(f"no result stored under {key!r}")
    return value
