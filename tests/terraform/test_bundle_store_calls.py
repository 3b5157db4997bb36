"""The control plane's bundle store on S3 (PUSHFLOW_BUNDLE_STORE=s3://...), against moto:
the calls it makes are recorded for the IAM check (aws_calls.py), and they work."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from control_plane.bundles import bundle_store


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_bundles_go_to_s3_and_come_back(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_url,
    }.items():
        monkeypatch.setenv(name, value)
    import boto3

    boto3.client("s3").create_bucket(Bucket="pushflow-bundles")
    store = bundle_store("s3://pushflow-bundles")
    data = b"a project archive"
    sha = hashlib.sha256(data).hexdigest()
    assert store.get(sha) is None
    store.put(sha, data)
    store.put(sha, data)  # content-addressed: the second upload writes nothing
    assert store.get(sha) == data
