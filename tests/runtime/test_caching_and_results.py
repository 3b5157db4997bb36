from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime import flow, task
from runtime.caching import task_input_hash
from runtime.results import JSONSerializer, LocalFileStorage, S3Storage, load_result, storage_from


def task_state(t, *args):
    """The state of one call of `t` inside a fresh flow run (a flow returning a State
    takes it as its own, so it is passed out on the side)."""
    box = []

    @flow
    def one_call() -> None:
        box.append(t(*args, return_state=True))

    one_call()
    return box[0]


@pytest.fixture
def storage(tmp_path: Path) -> LocalFileStorage:
    return LocalFileStorage(tmp_path / "results")


def counting_task(storage, **options):
    calls = {"n": 0}

    @task(cache_key_fn=task_input_hash, result_storage=storage, **options)
    def square(x: int) -> int:
        calls["n"] += 1
        return x * x

    return square, calls


def test_a_cache_hit_is_completed_cached_without_running_the_body(storage) -> None:
    square, calls = counting_task(storage)

    first, second, other = task_state(square, 3), task_state(square, 3), task_state(square, 4)
    assert (first.name, second.name, other.name) == ("Completed", "Cached", "Completed")
    assert second.is_completed() and second.result == 9
    assert calls["n"] == 2


def test_cache_records_outlive_the_process(storage) -> None:
    square, calls = counting_task(storage)

    @flow
    def f() -> int:
        return square(5)

    f()
    square_again, calls_again = counting_task(LocalFileStorage(storage.basepath))

    assert task_state(square_again, 5).name == "Cached"
    assert calls_again["n"] == 0


def test_the_default_policy_hashes_the_task_source(storage) -> None:
    @task(cache_key_fn=task_input_hash, result_storage=storage)
    def one(x: int) -> int:
        return x

    @task(cache_key_fn=task_input_hash, result_storage=storage)
    def other(x: int) -> int:
        return x + 1000

    assert task_state(one, 1).name == "Completed"
    assert task_state(other, 1).name == "Completed"


def test_cache_expiration_alone_turns_on_the_default_policy(storage) -> None:
    calls = {"n": 0}

    @task(cache_expiration=-1, result_storage=storage)
    def expired(x: int) -> int:
        calls["n"] += 1
        return x

    assert task_state(expired, 1).name == task_state(expired, 1).name == "Completed"
    assert calls["n"] == 2


def test_refresh_cache_runs_the_body_and_replaces_the_record(storage) -> None:
    square, calls = counting_task(storage)
    refreshing = square.with_options(refresh_cache=True)

    task_state(square, 2)
    assert task_state(refreshing, 2).name == "Completed"
    assert task_state(square, 2).name == "Cached"
    assert calls["n"] == 2


def test_a_custom_cache_key_fn(storage) -> None:
    calls = {"n": 0}

    @task(cache_key_fn=lambda ctx, args: "always-the-same", result_storage=storage)
    def anything(x: int) -> int:
        calls["n"] += 1
        return x

    @flow
    def f(x: int) -> int:
        return anything(x)

    assert (f(1), f(2)) == (1, 1)


def test_persist_result_writes_a_readable_record(storage) -> None:
    @task(persist_result=True, result_storage=storage, result_serializer="json")
    def make() -> dict:
        return {"rows": [1, 2]}

    state = task_state(make)
    assert state.result_key.startswith("results/")
    assert load_result(state.result_key, storage) == {"rows": [1, 2]}
    raw = (storage.basepath / state.result_key).read_bytes()
    assert raw.endswith(b'{"rows": [1, 2]}')


def test_json_serializer_explains_what_it_cannot_hold() -> None:
    with pytest.raises(TypeError, match="use result_serializer='pickle'"):
        JSONSerializer().dumps(object())


def test_storage_urls() -> None:
    assert isinstance(storage_from("s3://bucket/some/prefix"), S3Storage)
    assert storage_from("s3://bucket/some/prefix").prefix == "some/prefix"
    assert isinstance(storage_from("/tmp/x"), LocalFileStorage)
    assert repr(storage_from("gs://bucket/p")) == "GcsStorage('gs://bucket/p')"
    assert repr(storage_from("az://container/p")) == "AzureBlobStorage('az://container/p')"
    with pytest.raises(ValueError, match="unknown scheme 'ftp'"):
        storage_from("ftp://host/x")


@pytest.fixture
def s3_bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Storage]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            monkeypatch.setenv(name, value)
        storage = S3Storage("results", "runs", endpoint_url=f"http://{host}:{port}")
        storage._s3().create_bucket(Bucket="results")
        yield storage
    finally:
        server.stop()


def test_s3_storage_holds_results_and_cache_records(s3_bucket: S3Storage) -> None:
    square, calls = counting_task(s3_bucket, persist_result=True)

    first = task_state(square, 6)
    assert task_state(square, 6).name == "Cached" and calls["n"] == 1
    keys = [o["Key"] for o in s3_bucket._s3().list_objects_v2(Bucket="results")["Contents"]]
    assert any(k.startswith("runs/cache/") for k in keys)
    assert f"runs/{first.result_key}" in keys
    assert load_result(first.result_key, s3_bucket) == 36
    assert s3_bucket.read("nothing-here") is None


def test_default_storage_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUSHFLOW_RESULT_STORAGE", str(tmp_path / "shared"))

    @task(persist_result=True)
    def value() -> int:
        return 7

    key = task_state(value).result_key
    assert os.path.exists(tmp_path / "shared" / key)
