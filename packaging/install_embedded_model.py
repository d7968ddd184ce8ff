"""Put the embedded default model into resources/models/ (run by packaging/setup.sh and
packaging/build-deb.sh). The work is inference/models/embedded_install.py, which a wheel
install runs as `python -m inference.models.embedded_install`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from inference.models.embedded_install import main

if __name__ == "__main__":
    sys.exit(main())
