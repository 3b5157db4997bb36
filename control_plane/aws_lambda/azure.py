"""Azure sign-in for ACI pools on Lambda. A function has AWS credentials but no Azure
identity and no OIDC token to federate with, so the control plane signs in as an Entra ID
application whose client secret is kept in Secrets Manager (terraform's aci-pool module
creates both). Read once per container, it fills the variables azure-identity's
`DefaultAzureCredential` reads; the secret never appears in the function's configuration.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from control_plane.aws_lambda.aws import AwsClients
from control_plane.aws_lambda.errors import LambdaConfigError

if TYPE_CHECKING:
    from control_plane.settings import Settings

# secret field -> what azure-identity's EnvironmentCredential reads
FIELDS = {"tenant_id": "AZURE_TENANT_ID", "client_id": "AZURE_CLIENT_ID", "client_secret": "AZURE_CLIENT_SECRET"}


def load_azure_credentials(settings: Settings, aws: AwsClients) -> None:
    arn = settings.azure_credentials_secret_arn
    if not arn:
        return
    try:
        secret = json.loads(aws.secret_string(arn))
    except ValueError:
        secret = None
    missing = [f for f in FIELDS if not isinstance(secret, dict) or not secret.get(f)]
    if missing:
        raise LambdaConfigError(
            f"secret {arn} must be a JSON object with tenant_id, client_id and client_secret; "
            f"missing: {', '.join(missing)}"
        )
    for field, variable in FIELDS.items():
        os.environ[variable] = str(secret[field])
