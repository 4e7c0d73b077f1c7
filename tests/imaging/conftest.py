"""The shipped model, loaded once for the imaging tests that read with it."""

from __future__ import annotations

import pytest

from app.serving.predictor import Predictor
from tests.paths import SHIPPED


@pytest.fixture(scope="session")
def predictor() -> Predictor:
    return Predictor.load(SHIPPED)
