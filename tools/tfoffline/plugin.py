"""A schema-only Terraform provider: serves a provider's schema over the plugin protocol
(tfplugin6, through HashiCorp's go-plugin handshake) and accepts every configuration.

Terraform itself then checks a configuration against that schema: unknown arguments,
wrong types, a block written as an argument, missing required arguments, attributes and
references that do not exist. `terraform test` with `mock_provider` needs nothing more
from a provider than its schema, so plans and applies run offline too.

Only two answers carry data, GetProviderSchema and GetMetadata; they are encoded here by
hand (protobuf wire format, field numbers from tfplugin6.proto) so the stub needs no
generated code and no particular protobuf version. Every other call answers an empty
message: no diagnostics. Run as an executable through a wrapper that `workspace.py` writes:

    python plugin.py DIR NAME    # serves DIR/NAME.schema.pb, TLS key pair DIR/tls.*.pem
"""

from __future__ import annotations

import base64
import json
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

# ---- protobuf wire format -------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _number(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value) if value else b""


def _bytes(field: int, value: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(value)) + value


def _text(field: int, value: str) -> bytes:
    return _bytes(field, value.encode())


# ---- tfplugin6 messages ---------------------------------------------------------------

_NESTING = {"single": 1, "list": 2, "set": 3, "map": 4, "group": 5}


def _attribute(name: str, spec: dict[str, Any]) -> bytes:
    """Schema.Attribute: name=1 type=2 required=4 optional=5 computed=6 sensitive=7 nested_type=10."""
    out = _text(1, name)
    if "type" in spec:
        out += _bytes(2, json.dumps(spec["type"]).encode())
    out += b"".join(_number(n, int(bool(spec.get(k)))) for n, k in ((4, "required"), (5, "optional")))
    out += b"".join(_number(n, int(bool(spec.get(k)))) for n, k in ((6, "computed"), (7, "sensitive")))
    if "nested_type" in spec:  # Schema.Object: attributes=1 nesting=3
        nested = spec["nested_type"]
        inner = b"".join(_bytes(1, _attribute(k, v)) for k, v in sorted(nested["attributes"].items()))
        out += _bytes(10, inner + _number(3, _NESTING[nested.get("nesting_mode", "single")]))
    return out


def _block(block: dict[str, Any]) -> bytes:
    """Schema.Block: attributes=2 block_types=3 (NestedBlock: type_name=1 block=2 nesting=3
    min_items=4 max_items=5)."""
    out = b"".join(_bytes(2, _attribute(k, v)) for k, v in sorted(block.get("attributes", {}).items()))
    for name, nested in sorted(block.get("block_types", {}).items()):
        body = _text(1, name) + _bytes(2, _block(nested.get("block", {})))
        body += _number(3, _NESTING[nested["nesting_mode"]])
        body += _number(4, nested.get("min_items", 0)) + _number(5, nested.get("max_items", 0))
        out += _bytes(3, body)
    return out


def _schema(schema: dict[str, Any]) -> bytes:
    """Schema: version=1 block=2."""
    return _number(1, schema.get("version", 0)) + _bytes(2, _block(schema.get("block", {})))


def _entries(field: int, table: dict[str, Any]) -> bytes:
    """A protobuf map<string, Schema>: one entry message (key=1 value=2) per item."""
    return b"".join(_bytes(field, _text(1, k) + _bytes(2, _schema(v))) for k, v in sorted(table.items()))


def schema_response(schema: dict[str, Any]) -> bytes:
    """GetProviderSchema.Response: provider=1 resource_schemas=2 data_source_schemas=3
    provider_meta=5."""
    return (
        _bytes(1, _schema(schema["provider"]))
        + _entries(2, schema.get("resource_schemas", {}))
        + _entries(3, schema.get("data_source_schemas", {}))
        + _bytes(5, _schema({}))
    )


def metadata_response(schema: dict[str, Any]) -> bytes:
    """GetMetadata.Response: data_sources=3 resources=4 (each type_name=1)."""
    out = b"".join(_bytes(3, _text(1, k)) for k in sorted(schema.get("data_source_schemas", {})))
    return out + b"".join(_bytes(4, _text(1, k)) for k in sorted(schema.get("resource_schemas", {})))


# ---- the plugin process ---------------------------------------------------------------

# Calls a validating provider answers; each gets an empty message (no diagnostics).
_EMPTY_CALLS = (
    "ValidateProviderConfig",
    "ValidateResourceConfig",
    "ValidateDataResourceConfig",
    "ConfigureProvider",
    "StopProvider",
)


def serve(directory: Path, name: str) -> None:
    import grpc

    answers = {
        "GetProviderSchema": (directory / f"{name}.schema.pb").read_bytes(),
        "GetMetadata": (directory / f"{name}.metadata.pb").read_bytes(),
        **dict.fromkeys(_EMPTY_CALLS, b""),
    }
    stopped = threading.Event()

    def answer(payload: bytes) -> Any:
        return lambda request, context: payload

    def shutdown(request: bytes, context: Any) -> bytes:
        stopped.set()
        return b""

    # Raw bytes in and out: no (de)serializers, so no generated protobuf classes.
    handlers = [
        grpc.method_handlers_generic_handler(
            "tfplugin6.Provider",
            {call: grpc.unary_unary_rpc_method_handler(answer(data)) for call, data in answers.items()},
        ),
        grpc.method_handlers_generic_handler(
            "plugin.GRPCController", {"Shutdown": grpc.unary_unary_rpc_method_handler(shutdown)}
        ),
        grpc.method_handlers_generic_handler(
            "plugin.GRPCStdio",
            {"StreamStdio": grpc.unary_stream_rpc_method_handler(lambda request, context: iter(()))},
        ),
    ]
    from concurrent.futures import ThreadPoolExecutor

    server = grpc.server(ThreadPoolExecutor(max_workers=4), handlers=handlers)
    key, cert = (directory / "tls.key.pem").read_bytes(), (directory / "tls.cert.pem").read_bytes()
    with tempfile.TemporaryDirectory(prefix="tfstub-") as scratch:
        socket = f"{scratch}/plugin.sock"
        server.add_secure_port(f"unix://{socket}", grpc.ssl_server_credentials([(key, cert)]))
        server.start()
        der = (directory / "tls.cert.der").read_bytes()
        # go-plugin handshake: core version | app protocol | network | address | protocol | cert
        print(f"1|6|unix|{socket}|grpc|{base64.b64encode(der).decode().rstrip('=')}", flush=True)
        stopped.wait()
        server.stop(grace=0)


if __name__ == "__main__":
    serve(Path(sys.argv[1]), sys.argv[2])
