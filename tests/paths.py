"""Where the tests find the repository and their committed data."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository's root
DATA = ROOT / "tests" / "data"  # the committed samples, numbers and fonts
SHIPPED = ROOT / "weights" / "digitpad.npz"  # the default shipped model
