"""The server's settings: one object, read once from ``DIGITPAD_*`` environment variables.

Nothing else in the app reads ``os.environ``; ``create_app`` builds a ``Settings()``
unless it is handed one (tests hand it one pointing at their own weights file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_DIR = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    """``static`` or ``weights``: inside the installed package (``pip install .`` puts them
    in ``app/``), else beside ``app/`` in a source checkout."""
    installed = APP_DIR / name
    return installed if installed.is_dir() else APP_DIR.parent / name


class Settings(BaseSettings):
    """``DIGITPAD_WEIGHTS=/path/to.npz``, ``DIGITPAD_MAX_BODY_BYTES=…`` and so on."""

    model_config = SettingsConfigDict(env_prefix="DIGITPAD_", frozen=True)

    weights: Path = Field(default=_bundled("weights") / "digitpad.npz", description="the .npz weights file to serve")
    max_body_bytes: int = Field(default=1 << 20, gt=0, description="largest request body, checked before parsing (413)")
    max_side: int = Field(default=4096, gt=0, description="largest image width or height, checked before decoding")
    max_pixels: int = Field(default=16_000_000, gt=0, description="largest image area, checked before decoding")
    max_batch: int = Field(default=256, gt=0, description="most inputs in one /api/predict/batch request")
    static_dir: Path = Field(default=_bundled("static"), description="the drawing page's files")
    host: str = Field(default="127.0.0.1", description="address digitpad-serve listens on")
    port: int = Field(default=8000, ge=0, le=65535, description="port digitpad-serve listens on")
    workers: int = Field(default=1, ge=1, description="uvicorn worker processes for digitpad-serve")
    graceful_timeout: int = Field(default=8, ge=0, description="seconds to finish in-flight requests on SIGTERM")
