"""Entry point of the `pushflow` console script.

`pushflow execute` starts every run, so it skips building the CLI (Typer, rich and every
command module): a run's cold start pays only for the runtime.
"""

from __future__ import annotations

import sys


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["execute"] and len(args) <= 2 and not any(a.startswith("-") for a in args[1:]):
        from runtime.execute import main as execute_main

        return execute_main(args[1] if len(args) > 1 else None)
    from pushflow_cli.app import app

    try:
        app()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
