"""``python -m desktop``: the command line, or the app window when no command is given."""

from __future__ import annotations

import sys

from desktop.cli import main as _main


def main() -> int:
    try:
        return _main(sys.argv[1:])
    except BrokenPipeError:
        # `... | head` closed the pipe: not an error worth a traceback.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
