"""One behaviour suite for every result store, each against a real emulator over HTTP:
a local folder, S3 (moto), Google Cloud Storage (gcp-storage-emulator behind a front that
checks tokens and V4 signatures, tests/emulators/gcs_signing.py) and Azure Blob
Storage (Azurite). The control plane's bundle store is the same seam, tested here too."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from control_plane.bundles import (
    BundleHashError,
    BundleTooLargeError,
    BundleUploadMissingError,
    bundle_store,
)
from runtime.results import MISSING, JSONSerializer, PickleSerializer, read_record, storage_from, write_record
from tests.emulators.storage import azurite, moto_s3, signing_gcs_emulator

# scheme -> whether its credentials here can sign download URLs
SIGNS = {"file": False, "s3": True, "gs": True, "az": True}
# The stores whose emulator checks a signed URL's signature. moto does not check the SigV4
# signature of presigned URLs (it accepts any query), so that part is unproven for S3.
CHECKS_SIGNATURES = ["gs", "az"]


@pytest.fixture(scope="module", params=["file", "s3", "gs", "az"])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    scheme = request.param
    tmp = tmp_path_factory.mktemp(scheme)
    if scheme == "file":
        yield str(tmp / "store")
        return
    emulator: Any = {"s3": lambda: moto_s3("pushflow"), "gs": lambda: signing_gcs_emulator("pushflow", tmp)}.get(
        scheme, lambda: azurite(tmp)
    )
    with emulator() as env, pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        yield f"{scheme}://pushflow/results"


def scheme_of(url: str) -> str:
    return url.partition("://")[0] if "://" in url else "file"


def test_bytes_round_trip_and_a_missing_key_is_none(store_url: str) -> None:
    storage = storage_from(store_url)
    assert storage.read("nothing/here") is None
    storage.write("a/b.bin", b"\x00first")
    storage.write("a/b.bin", b"\x00second")  # overwrites
    assert storage.read("a/b.bin") == b"\x00second"
    assert storage.exists("a/b.bin") and not storage.exists("a/c.bin")  # type: ignore[attr-defined]


def test_records_keep_their_serializer_and_expire(store_url: str) -> None:
    storage = storage_from(store_url)
    write_record(storage, "rec/json", {"rows": [1, 2]}, JSONSerializer())
    write_record(storage, "rec/pickle", {1, 2}, PickleSerializer())
    write_record(storage, "rec/old", "stale", JSONSerializer(), expires=1.0)
    assert read_record(storage, "rec/json") == {"rows": [1, 2]}
    assert read_record(storage, "rec/pickle") == {1, 2}
    assert read_record(storage, "rec/old") is MISSING


def test_the_bundle_store_is_content_addressed(store_url: str) -> None:
    store = bundle_store(store_url)
    data = b"not really a tar.gz, but bytes all the same" * 100
    sha256 = hashlib.sha256(data).hexdigest()
    assert not store.exists(sha256)
    with pytest.raises(BundleHashError):
        store.put(sha256, data + b"tampered")
    store.put(sha256, data)
    assert store.exists(sha256) and store.get(sha256) == data
    url = store.download_url(sha256, 60)
    if SIGNS[scheme_of(store_url)]:
        assert url is not None
        assert httpx.get(url).content == data  # the signed URL alone is enough
    else:
        assert url is None  # the runtime downloads through the API instead


def test_a_signed_upload_is_stored_only_once_its_hash_checks_out(store_url: str) -> None:
    store = bundle_store(store_url)
    data = b"an archive uploaded straight to the store" * 1000
    sha256 = hashlib.sha256(data).hexdigest()
    target = store.upload_target(sha256, 60)
    if not SIGNS[scheme_of(store_url)]:
        assert target is None  # `pushflow deploy` uploads through the API instead
        return
    assert target is not None
    url, headers = target
    # Someone uploads other bytes under this name: the commit refuses them and deletes them.
    assert httpx.put(url, content=data + b"tampered", headers=headers).status_code < 300
    assert not store.exists(sha256)
    with pytest.raises(BundleHashError, match=sha256):
        store.commit(sha256, max_bytes=10**6)
    assert store.storage.size(store.upload_key(sha256)) is None
    with pytest.raises(BundleUploadMissingError):
        store.commit(sha256, max_bytes=10**6)
    # Too large: refused by size, before anything is read.
    assert httpx.put(url, content=data, headers=headers).status_code < 300
    with pytest.raises(BundleTooLargeError):
        store.commit(sha256, max_bytes=len(data) - 1)
    assert httpx.put(url, content=data, headers=headers).status_code < 300
    assert store.commit(sha256, max_bytes=10**6) == len(data)
    assert store.exists(sha256) and store.get(sha256) == data
    assert store.commit(sha256, max_bytes=10**6) == len(data)  # a second commit of the same code is fine


@pytest.mark.parametrize("store_url", CHECKS_SIGNATURES, indirect=True)
def test_a_signed_upload_url_works_for_its_object_only(store_url: str) -> None:
    store = bundle_store(store_url)
    target = store.upload_target("a" * 64, 60)
    assert target is not None
    url, headers = target
    elsewhere = url.replace("a" * 64, "b" * 64)
    assert httpx.put(elsewhere, content=b"x", headers=headers).status_code >= 400
    assert store.storage.size(store.upload_key("b" * 64)) is None


@pytest.mark.parametrize("store_url", ["gs"], indirect=True)
def test_the_gcs_front_checks_v4_signatures_and_expiry(store_url: str) -> None:
    """The emulator's front refuses what Cloud Storage refuses, so the signed-URL tests
    above prove something."""
    store = bundle_store(store_url)
    store.put(hashlib.sha256(b"x").hexdigest(), b"x")
    url = store.download_url(hashlib.sha256(b"x").hexdigest(), 60)
    assert url is not None and httpx.get(url).content == b"x"
    signature = url.rsplit("X-Goog-Signature=", 1)[1]
    tampered = url.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])
    assert httpx.get(tampered).status_code == 403 and b"SignatureDoesNotMatch" in httpx.get(tampered).content
    today = url.split("X-Goog-Date=", 1)[1][:8]
    expired = url.replace(today, "20200101")
    assert httpx.get(expired).status_code == 400 and b"ExpiredToken" in httpx.get(expired).content
    assert httpx.get(url.split("?", 1)[0]).status_code == 401  # no signature, no token


def test_a_bad_url_names_the_schemes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="gs:// or az://"):
        storage_from("ftp://example/x")
