"""``python -m desktop``: the command line, or the app window when no command is given."""

from __future__ import annotations

import sys

from desktop.cli import main as _main


def main() -> int:
    return _main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
