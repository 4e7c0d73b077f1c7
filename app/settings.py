"""The server's settings: one object, read once from ``DIGITPAD_*`` environment variables.

Nothing else in the app reads ``os.environ``; ``create_app`` builds a ``Settings()``
unless it is handed one (tests hand it one pointing at their own weights file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """``DIGITPAD_WEIGHTS=/path/to.npz``, ``DIGITPAD_MAX_BODY_BYTES=…`` and so on."""

    model_config = SettingsConfigDict(env_prefix="DIGITPAD_", frozen=True)

    weights: Path = Field(default=REPO / "weights" / "digitpad.npz", description="the .npz weights file to serve")
    max_body_bytes: int = Field(default=1 << 20, gt=0, description="largest request body, checked before parsing (413)")
    max_side: int = Field(default=4096, gt=0, description="largest image width or height, checked before decoding")
    max_pixels: int = Field(default=16_000_000, gt=0, description="largest image area, checked before decoding")
    max_batch: int = Field(default=256, gt=0, description="most inputs in one /api/predict/batch request")
    static_dir: Path = Field(default=REPO / "static", description="the drawing page's files")
