"""Entry point of the `pushflow` console script.

`pushflow execute` starts every run, so it skips building the CLI (Typer, rich and every
command module): a run's cold start pays only for the runtime.

Exit codes: 0 ok; 1 the thing failed; 2 the command was used wrongly. Usage mistakes the
parser catches are printed in one line, like every other error.
"""

from __future__ import annotations

import sys
from typing import Any


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["execute"] and len(args) <= 2 and not any(a.startswith("-") for a in args[1:]):
        from runtime.execute import main as execute_main

        return execute_main(args[1] if len(args) > 1 else None)
    from pushflow_cli.app import app

    errors = _click_exceptions()
    try:
        code = app(standalone_mode=False, prog_name="pushflow")
    except errors.NoArgsIsHelpError as exc:  # `pushflow pool`: show what it offers
        exc.ctx.command.get_help(exc.ctx)
        return 2
    except errors.UsageError as exc:
        where = f"; see `{exc.ctx.command_path} --help`" if exc.ctx else ""
        return _error(f"{exc.format_message().rstrip('.')}{where}", 2)
    except errors.ClickException as exc:
        return _error(exc.format_message(), exc.exit_code)
    except KeyboardInterrupt:  # Ctrl-C, e.g. ending `runs logs --follow`: the shell's convention
        return 130
    except (typer_abort(), EOFError):  # a confirmation not given
        return _error("aborted", 1)
    return code if isinstance(code, int) else 0


def _click_exceptions() -> Any:
    try:  # Typer 0.2x carries its own copy of click
        from typer._click import exceptions
    except ImportError:  # pragma: no cover - older Typer on click itself
        from click import exceptions  # type: ignore[no-redef]
    return exceptions


def typer_abort() -> type[BaseException]:
    import typer

    return typer.Abort


def _error(message: str, code: int) -> int:
    from pushflow_cli.console import fail

    fail(message)
    return code


if __name__ == "__main__":
    sys.exit(main())
