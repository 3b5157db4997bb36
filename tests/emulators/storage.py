"""Object-store emulators on 127.0.0.1 for the result storage and bundle store tests:
moto's S3 (server mode), gcp-storage-emulator (PyPI) for Google Cloud Storage, and
Azurite (Microsoft's emulator, from npm: tests/emulators/azurite/package.json and its
lock file, installed with `npm ci` on first use).

Each is started with a context manager that yields what a client needs to reach it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import free_port, wait_for

AZURITE_DIR = Path(__file__).parent / "azurite"
# Azurite's documented development account (learn.microsoft.com, "Use Azurite").
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def moto_s3(bucket: str) -> Iterator[dict[str, str]]:
    """An S3 endpoint with `bucket`; yields the environment boto3 reads."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    try:
        s3 = boto3.client(
            "s3",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        s3.create_bucket(Bucket=bucket)
        yield env
    finally:
        server.stop()


@contextlib.contextmanager
def gcs_emulator(bucket: str) -> Iterator[dict[str, str]]:
    """gcp-storage-emulator in memory with `bucket`; yields STORAGE_EMULATOR_HOST."""
    from gcp_storage_emulator.server import create_server

    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket=bucket)
    server.start()
    try:
        wait_for(lambda: _listening(port), what="the GCS emulator")
        yield {"STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{port}"}
    finally:
        server.stop()


@contextlib.contextmanager
def signing_gcs_emulator(bucket: str, key_dir: Path) -> Iterator[dict[str, str]]:
    """gcp-storage-emulator behind a front that checks tokens and V4 signatures
    (tests/emulators/gcs_signing.py), with a service-account key that can sign URLs."""
    from tests.emulators.gcs_signing import signing_gcs

    with gcs_emulator(bucket) as env, signing_gcs(env, key_dir) as signed:
        yield signed


def azurite_binary() -> Path:
    binary = AZURITE_DIR / "node_modules" / ".bin" / "azurite-blob"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("Azurite needs Node.js and npm (apt-get install nodejs npm)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=AZURITE_DIR, check=True, timeout=600)
    return binary


@contextlib.contextmanager
def azurite(tmp_dir: Path) -> Iterator[dict[str, str]]:
    """Azurite's blob service in memory; yields AZURE_STORAGE_CONNECTION_STRING."""
    port = free_port()
    log = open(tmp_dir / "azurite.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [
            str(azurite_binary()),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--inMemoryPersistence",
            "--skipApiVersionCheck",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_dir,  # anything it writes stays out of the checkout
        env={**os.environ},
    )
    try:
        wait_for(lambda: _listening(port) or process.poll() is not None, timeout=60, what="Azurite to listen")
        if process.poll() is not None:
            raise RuntimeError(f"Azurite exited: {(tmp_dir / 'azurite.log').read_text()}")
        yield {
            "AZURE_STORAGE_CONNECTION_STRING": (
                f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
                f"BlobEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};"
            )
        }
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
