#!/usr/bin/env python3
"""Rewrite tests/contracts/*.json from ../shared/contracts (``--check``: only say whether they agree)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.contracts.derive import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
