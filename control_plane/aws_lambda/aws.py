"""AWS clients for the Lambda edge: boto3 is imported and each client built on first use
(neither is free), then reused for the container's life."""

from __future__ import annotations

from typing import Any


class AwsClients:
    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}

    def get(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is None:
            import boto3

            # Region and endpoint come from the environment (AWS_REGION, AWS_ENDPOINT_URL).
            client = self._clients[service] = boto3.client(service)
        return client

    def secret_string(self, arn: str) -> str:
        return str(self.get("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])
