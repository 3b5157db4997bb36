"""A scratch directory where Terraform finds schema-only providers instead of the registry.

`Workspace.create(scratch, schema_files)` writes, once: each provider's encoded schema,
a TLS key pair for the plugin handshake, a `terraform-provider-<name>` executable per
provider, and a CLI configuration whose `dev_overrides` point Terraform at them. Every
`terraform` call then runs with `TF_CLI_CONFIG_FILE` set to it, so `init`, `validate`,
`fmt` and `test` never reach the network.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import shlex
import subprocess
import sys
from pathlib import Path

from tools.tfoffline import plugin, schemas

PLUGIN = Path(plugin.__file__).resolve()
ROOT = PLUGIN.parents[2]  # the checkout: `tools.tfoffline` is importable from here


@dataclasses.dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return f"$ terraform {' '.join(self.args)}\n{self.stdout}{self.stderr}"


@dataclasses.dataclass(frozen=True)
class Workspace:
    directory: Path
    providers: dict[str, str]  # source address -> version served

    @classmethod
    def create(cls, directory: Path, schema_files: list[Path]) -> Workspace:
        plugins = directory / "plugins"
        plugins.mkdir(parents=True, exist_ok=True)
        _write_tls_pair(plugins)
        providers, overrides = {}, []
        for path in schema_files:
            source, version, schema = schemas.load(path)
            name = source.rsplit("/", 1)[1]
            (plugins / f"{name}.schema.pb").write_bytes(plugin.schema_response(schema))
            (plugins / f"{name}.metadata.pb").write_bytes(plugin.metadata_response(schema))
            executable = plugins / f"terraform-provider-{name}"
            command = shlex.join([sys.executable, str(PLUGIN), str(plugins), name])
            executable.write_text(f"#!/bin/sh\nexec {command}\n")
            executable.chmod(0o755)
            providers[source] = version
            overrides.append(f'    "{source.split("/", 1)[1]}" = "{plugins}"')
        overrides_block = "\n".join(overrides)
        (directory / "terraformrc").write_text(
            f"provider_installation {{\n  dev_overrides {{\n{overrides_block}\n  }}\n  direct {{}}\n}}\n"
        )
        return cls(directory, providers)

    def env(self, data_dir: Path) -> dict[str, str]:
        return {
            **os.environ,
            "TF_CLI_CONFIG_FILE": str(self.directory / "terraformrc"),
            "TF_DATA_DIR": str(data_dir),  # keeps .terraform/ out of the module's folder
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",  # no version check call home
            "PYTHONPATH": str(ROOT),
        }

    def terraform(self, cwd: Path, *args: str, timeout: float = 300) -> Result:
        """Run `terraform ARGS` in `cwd`; its data directory lives beside the workspace."""
        data_dir = self.directory / "data" / cwd.resolve().as_posix().strip("/").replace("/", "_")
        done = subprocess.run(
            [sys.executable, "-m", "tools.tfoffline.terraform", *args],
            cwd=cwd,
            env=self.env(data_dir),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Result(args, done.returncode, done.stdout, done.stderr)


def _write_tls_pair(directory: Path) -> None:
    """A self-signed certificate for the plugin's gRPC server; Terraform trusts exactly
    the certificate the plugin names in its handshake."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (directory / "tls.key.pem").write_bytes(key_pem)
    (directory / "tls.cert.pem").write_bytes(cert.public_bytes(pem))
    (directory / "tls.cert.der").write_bytes(cert.public_bytes(serialization.Encoding.DER))
