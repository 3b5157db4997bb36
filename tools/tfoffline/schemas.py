"""Provider schemas for offline checks, in the format of `terraform providers schema -json`.

Where a real Terraform with network can run, `terraform providers schema -json` gives the
exact schema and can be saved here as is. Where it cannot (this project's CI), the schema
is recovered from the PyPI packages `cdktf-cdktf-provider-<name>`: each wheel carries a
plain-JSON jsii assembly generated from the provider's schema, with argument names (the
`#anchor` of each property's registry link), required-ness (`optional`), nested blocks
(a summary ending " block.") and read-only attributes. It does not carry list vs set,
min/max items beyond "required", allowed values or conflicts; `docs/terraform.md` says
what that leaves unchecked.

    python -m tools.tfoffline dump WHEEL... -o tests/terraform/schemas
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
import zipfile
from pathlib import Path
from typing import Any

_LINK = re.compile(
    r"\{@link https://registry\.terraform\.io/providers/([^/]+)/([^/]+)/([^/]+)/docs/"
    r"(resources|data-sources)/(\S+) (\S+)\}"
)
_ANCHOR = re.compile(r"\{@link https://registry\.terraform\.io/\S+#(\S+) ")
_PRIMITIVES = {"string": "string", "number": "number", "boolean": "bool"}
_MAX_DEPTH = 12


def read_assembly(wheel: Path) -> dict[str, Any]:
    """The .jsii assembly (plain JSON) inside a cdktf provider wheel."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".jsii.tgz"))
        with tarfile.open(fileobj=io.BytesIO(archive.read(name)), mode="r:gz") as tgz:
            member = tgz.extractfile("package/.jsii")
            assert member is not None
            return dict(json.load(member))


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


class _Assembly:
    def __init__(self, assembly: dict[str, Any]) -> None:
        self.types: dict[str, Any] = assembly["types"]
        self.resources: dict[str, str] = {}
        self.data_sources: dict[str, str] = {}
        self.namespace = self.name = self.version = ""
        for fqn, typ in self.types.items():
            if typ.get("base") not in ("cdktf.TerraformResource", "cdktf.TerraformDataSource"):
                continue
            link = _LINK.search(typ.get("docs", {}).get("summary", ""))
            if link:
                self.namespace, self.name, self.version = link.group(1), link.group(2), link.group(3)
                table = self.resources if link.group(4) == "resources" else self.data_sources
                table[link.group(6)] = fqn

    def _struct(self, typ: dict[str, Any]) -> tuple[str | None, str]:
        """The nested struct a property's type refers to, and whether it is one or many."""
        fqn = typ.get("fqn")
        if fqn in self.types and self.types[fqn].get("datatype"):
            return fqn, "single"
        if "collection" in typ:
            found, _ = self._struct(typ["collection"]["elementtype"])
            return found, "list"
        for member in typ.get("union", {}).get("types", []):
            found, mode = self._struct(member)
            if found:
                return found, mode
        return None, ""

    def _properties(self, fqn: str) -> list[dict[str, Any]]:
        typ = self.types[fqn]
        props = list(typ.get("properties", []))
        for parent in typ.get("interfaces", []):
            if parent in self.types and parent != "cdktf.TerraformMetaArguments":
                props += self._properties(parent)
        return props

    def cty(self, typ: dict[str, Any]) -> Any:
        if "union" in typ:
            others = [t for t in typ["union"]["types"] if t.get("fqn") != "cdktf.IResolvable"]
            return self.cty(others[0]) if len(others) == 1 else "dynamic"
        if "primitive" in typ:
            return _PRIMITIVES.get(typ["primitive"], "dynamic")
        if "collection" in typ:
            kind = "map" if typ["collection"]["kind"] == "map" else "list"
            return [kind, self.cty(typ["collection"]["elementtype"])]
        return "dynamic"  # nested-attribute objects and computed complex values

    def block(self, fqn: str, depth: int = 0) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        block_types: dict[str, Any] = {}
        for prop in self._properties(fqn):
            docs = prop.get("docs", {})
            anchor = _ANCHOR.search(docs.get("summary", "") + " " + docs.get("remarks", ""))
            name = anchor.group(1) if anchor else _snake(prop["name"])
            required = not prop.get("optional", False)
            nested, mode = self._struct(prop["type"])
            if nested and docs.get("summary", "").endswith(" block.") and depth < _MAX_DEPTH:
                entry: dict[str, Any] = {"nesting_mode": "list", "block": self.block(nested, depth + 1)}
                if required:
                    entry["min_items"] = 1
                if mode == "single":
                    entry["max_items"] = 1
                block_types[name] = entry
            else:
                # Optional arguments are marked computed too: the wheel does not say which
                # ones the provider fills in, and a mock provider may then invent them.
                flags = {"required": True} if required else {"optional": True, "computed": True}
                attributes[name] = {"type": self.cty(prop["type"]), **flags}
        return {"attributes": attributes, "block_types": block_types}

    def _config_fqn(self, cls: str) -> str:
        params = self.types[cls]["initializer"]["parameters"]
        return str(next(p["type"]["fqn"] for p in params if p["name"] == "config"))

    def schema(self, cls: str) -> dict[str, Any]:
        block = self.block(self._config_fqn(cls))
        for prop in self.types[cls].get("properties", []):
            name = _snake(prop["name"])
            if prop.get("static") or not prop.get("immutable") or prop["name"].endswith("Input"):
                continue
            if name in block["attributes"] or name in block["block_types"] or name in ("fqn", "friendly_unique_id"):
                continue
            typ = "dynamic" if "fqn" in prop["type"] else self.cty(prop["type"])
            # Read-only attributes carry no registry anchor, so their names are guessed
            # from camelCase, which is ambiguous after a digit: outputBase64Sha256 is
            # `output_base64sha256` in the archive provider, ipv6CidrBlock `ipv6_cidr_block`
            # in AWS. Serve both spellings.
            for spelling in {name, re.sub(r"(?<=[0-9])_", "", name)}:
                block["attributes"].setdefault(spelling, {"type": typ, "computed": True})
        return {"version": 0, "block": block}

    def provider(self) -> dict[str, Any]:
        cls = next(f for f, t in self.types.items() if t.get("base") == "cdktf.TerraformProvider")
        block = self.block(self._config_fqn(cls))
        block["attributes"].pop("alias", None)  # a meta-argument, not the provider's
        return {"version": 0, "block": block}


def from_wheel(wheel: Path) -> tuple[str, str, dict[str, Any]]:
    """(source address, provider version, schema) recovered from a cdktf provider wheel."""
    asm = _Assembly(read_assembly(wheel))
    schema = {
        "provider": asm.provider(),
        "resource_schemas": {name: asm.schema(cls) for name, cls in sorted(asm.resources.items())},
        "data_source_schemas": {name: asm.schema(cls) for name, cls in sorted(asm.data_sources.items())},
    }
    return f"registry.terraform.io/{asm.namespace}/{asm.name}", asm.version, schema


def write(directory: Path, source: str, version: str, schema: dict[str, Any]) -> Path:
    """Save as <name>-<version>.json.gz in `terraform providers schema -json` form."""
    name = source.rsplit("/", 1)[1]
    path = directory / f"{name}-{version}.json.gz"
    document = {"format_version": "1.0", "provider_schemas": {source: schema}}
    # mtime=0 keeps the bytes identical for identical content (reviewable diffs).
    with gzip.GzipFile(path, "wb", mtime=0) as out:
        out.write(json.dumps(document, sort_keys=True, separators=(",", ":")).encode())
    return path


def load(path: Path) -> tuple[str, str, dict[str, Any]]:
    """(source, version, schema) from a saved file; the version is in its name."""
    with gzip.open(path, "rt") as src:
        document = json.load(src)
    (source, schema), *_ = document["provider_schemas"].items()
    version = path.name.removesuffix(".json.gz").rsplit("-", 1)[1]
    return source, version, schema
