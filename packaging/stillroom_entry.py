"""The frozen app's entry point (PyInstaller runs this file as `__main__`).

A frozen app has no Python interpreter to hand: `sys.executable` is the `stillroom` binary
itself. The model converters start their child as `sys.executable -m <module> ARGS...`
(inference/convert/child_job.py), so the binary answers that form too: it runs the module
the way `python -m` would. Everything else is the ordinary command line.
"""

from __future__ import annotations

import faulthandler
import runpy
import sys


def _run_module_like_python() -> int:
    module = sys.argv[2]
    sys.argv = [module, *sys.argv[3:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
    return 0


def main() -> int:
    # A crash inside llama.cpp or Qt then leaves a Python traceback on stderr (the journal,
    # a terminal), not just "Segmentation fault". No stderr in the windowed Windows program.
    if sys.stderr is not None:
        faulthandler.enable()
    if getattr(sys, "frozen", False) and len(sys.argv) >= 3 and sys.argv[1] == "-m":
        return _run_module_like_python()
    from app.cli.main import main as stillroom_main

    return stillroom_main()


if __name__ == "__main__":
    sys.exit(main())
