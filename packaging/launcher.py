"""The frozen app's entry point: the same ``main`` as ``python -m desktop``.

PyInstaller needs a script, not a ``-m`` module, and a script named ``__main__.py`` inside the package
would be analysed as ``__main__`` only; this shim keeps ``desktop/__main__.py`` untouched.
"""

from __future__ import annotations

import multiprocessing
import sys

from desktop.__main__ import main

if __name__ == "__main__":
    # A frozen child started by multiprocessing re-runs this file; freeze_support turns it into the child.
    multiprocessing.freeze_support()
    sys.exit(main())
