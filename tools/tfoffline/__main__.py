"""python -m tools.tfoffline dump WHEEL... -o DIR   (schemas from cdktf provider wheels)
python -m tools.tfoffline check DIR...           (fmt -check, init, validate, test)
python -m tools.tfoffline fmt DIR...             (rewrite in canonical style)
python -m tools.tfoffline docs DIR...            (README inputs/outputs tables)"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tools.tfoffline import docs, schemas
from tools.tfoffline.workspace import Workspace

SCHEMAS = Path(__file__).resolve().parents[2] / "tests" / "terraform" / "schemas"


def check(workspace: Workspace, directory: Path) -> bool:
    steps = [("fmt", "-check", "-recursive", "-diff"), ("init", "-backend=false", "-input=false")]
    steps.append(("validate", "-no-color"))
    if (directory / "tests").is_dir():
        steps.append(("test", "-no-color"))
    for step in steps:
        result = workspace.terraform(directory, *step)
        if result.returncode != 0:
            print(f"FAIL {directory}\n{result.output}", file=sys.stderr)
            return False
    print(f"ok   {directory}")
    return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.tfoffline")
    commands = parser.add_subparsers(dest="command", required=True)
    dump = commands.add_parser("dump", help="save provider schemas recovered from cdktf provider wheels")
    dump.add_argument("wheels", nargs="+", type=Path)
    dump.add_argument("-o", "--out", type=Path, default=SCHEMAS)
    run = commands.add_parser("check", help="fmt -check, init, validate and test each directory")
    run.add_argument("directories", nargs="+", type=Path)
    fmt = commands.add_parser("fmt", help="rewrite each directory's files in canonical style")
    fmt.add_argument("directories", nargs="+", type=Path)
    readme = commands.add_parser("docs", help="rewrite the inputs/outputs tables in each directory's README.md")
    readme.add_argument("directories", nargs="+", type=Path)
    args = parser.parse_args(argv)

    if args.command == "docs":
        for directory in args.directories:
            path = directory / "README.md"
            path.write_text(docs.render(path.read_text() if path.exists() else "", directory))
        return 0

    if args.command == "dump":
        args.out.mkdir(parents=True, exist_ok=True)
        for wheel in args.wheels:
            source, version, schema = schemas.from_wheel(wheel)
            path = schemas.write(args.out, source, version, schema)
            print(f"{source} {version}: {len(schema['resource_schemas'])} resources -> {path}")
        return 0
    with tempfile.TemporaryDirectory(prefix="tfoffline-") as scratch:
        workspace = Workspace.create(Path(scratch), sorted(SCHEMAS.glob("*.json.gz")))
        if args.command == "fmt":
            results = [workspace.terraform(d, "fmt", "-recursive").returncode == 0 for d in args.directories]
        else:
            results = [check(workspace, d.resolve()) for d in args.directories]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
