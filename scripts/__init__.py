"""Offline command-line tools: fetch MNIST, train, evaluate, benchmark."""

from pathlib import Path


def project_root() -> Path:
    """The source checkout when run from one; otherwise (an installed console script)
    the current folder, so ``data/`` and ``weights/`` land where the user is."""
    checkout = Path(__file__).resolve().parent.parent
    return checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()
