"""AWS KMS envelope encryption for blocks: a data key per sealed value from
GenerateDataKey (AES_256; only its encrypted copy is stored), opened with Decrypt at use.
The block's `type/name` is the encryption context, so KMS refuses a data key moved to
another block, and CloudTrail shows which block each Decrypt was for.

AWS docs: https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKey.html
("use the plaintext data key ... to encrypt your data outside of AWS KMS ... store the
encrypted data key with the encrypted data") and API_Decrypt.html (a symmetric ciphertext
names its KMS key, so Decrypt needs no KeyId: values wrapped under a previous KMS key
still open after PUSHFLOW_BLOCK_KMS_KEY_ID changes).

boto3 is imported on first use; region, credentials and endpoint come from the usual AWS
settings (AWS_REGION, the task or function role, AWS_ENDPOINT_URL_KMS).
"""

from __future__ import annotations

import functools
from typing import Any

from control_plane.errors import ConfigurationError, ServiceUnavailableError

CONTEXT_KEY = "pushflow:block"
# Errors KMS documents as transient (API_Decrypt.html, API_GenerateDataKey.html "Errors":
# DependencyTimeoutException "retryable", KMSInternalException; ThrottlingException from
# request quotas): the same request may succeed later, so the API answers 503, not 500.
TRANSIENT = {"DependencyTimeoutException", "KMSInternalException", "ThrottlingException"}


@functools.lru_cache(maxsize=1)  # one client per process: building one costs tens of ms, it holds no state
def _client() -> Any:
    try:
        import boto3
    except ImportError as exc:
        raise ConfigurationError('PUSHFLOW_BLOCK_KMS_KEY_ID needs boto3: pip install "pushflow[aws]"') from exc
    return boto3.client("kms")


def generate_data_key(key_id: str, ref: str) -> tuple[bytes, bytes]:
    """(plaintext data key, its KMS-encrypted copy) for sealing block `ref`."""
    answer = _call("GenerateDataKey", KeyId=key_id, KeySpec="AES_256", EncryptionContext={CONTEXT_KEY: ref})
    return answer["Plaintext"], answer["CiphertextBlob"]


def decrypt_data_key(wrapped: bytes, ref: str) -> bytes:
    return bytes(_call("Decrypt", CiphertextBlob=wrapped, EncryptionContext={CONTEXT_KEY: ref})["Plaintext"])


def _call(operation: str, **kwargs: Any) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    client = _client()
    method = {"GenerateDataKey": client.generate_data_key, "Decrypt": client.decrypt}[operation]
    try:
        return method(**kwargs)  # type: ignore[no-any-return]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "InvalidCiphertextException":  # altered, or moved to another block
            from control_plane.blocks.crypto import UnreadableError

            ref = kwargs["EncryptionContext"][CONTEXT_KEY]
            raise UnreadableError(f"AWS KMS refused the data key of block {ref!r}") from exc
        if error.get("Code") in TRANSIENT:
            raise ServiceUnavailableError(
                f"AWS KMS {operation} is unavailable right now ({error.get('Code')}); "
                "nothing was changed, retry shortly"
            ) from exc
        raise ConfigurationError(
            f"AWS KMS {operation} failed ({error.get('Code')}: {error.get('Message')}); check "
            "PUSHFLOW_BLOCK_KMS_KEY_ID and that the server's role may kms:GenerateDataKey and kms:Decrypt on it"
        ) from exc
    except BotoCoreError as exc:
        # Unreachable or timed out (EndpointConnectionError, ReadTimeoutError ...): retryable.
        raise ServiceUnavailableError(
            f"AWS KMS {operation} could not be reached ({exc}); nothing was changed, retry shortly"
        ) from exc
