"""The corrections: add one, count them, read them back as arrays, delete old ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Engine, case, delete, func, insert, select

from app.storage.database import writing
from app.storage.tables import NOT_A_DIGIT, feedback


def _nothing() -> None:
    pass


def add(engine: Engine, pixels: NDArray[np.uint8], label: int, predicted: int | None,
        model_version: str | None, before_commit: Callable[[], None] = _nothing) -> int:
    """Store one correction (the 28×28 input as uint8, labels 0–10) and return its id. If
    ``before_commit`` raises, nothing is stored."""
    row = {"created_at": dt.datetime.now(dt.UTC), "pixels": pixels.astype(np.uint8).tobytes(),
           "label": label, "predicted": predicted, "model_version": model_version}
    with writing(engine), engine.begin() as c:
        row_id = int(c.execute(insert(feedback).returning(feedback.c.id), row).scalar_one())
        before_commit()
        return row_id


def label_name(label: int | None) -> str | None:
    return None if label is None else "not_a_digit" if label == NOT_A_DIGIT else str(label)


def summary(engine: Engine, versions: Collection[str] | None = None) -> dict[str, Any]:
    """Counts per label, and per model version how often it had answered what the user said:
    every version, or only ``versions`` and none."""
    agreed = func.sum(case((feedback.c.predicted == feedback.c.label, 1), else_=0))
    per_model = select(feedback.c.model_version, func.count(), agreed)
    if versions is not None:
        per_model = per_model.where(feedback.c.model_version.in_(sorted(versions))
                                    | feedback.c.model_version.is_(None))
    with engine.connect() as c:
        labels: dict[int, int] = {int(k): int(n) for k, n in
                                  c.execute(select(feedback.c.label, func.count()).group_by(feedback.c.label))}
        models = c.execute(per_model.group_by(feedback.c.model_version).order_by(feedback.c.model_version)).all()
    return {
        "total": sum(labels.values()),
        "labels": {label_name(k): int(labels.get(k, 0)) for k in range(NOT_A_DIGIT + 1)},
        "models": [{"version": v, "corrections": int(n), "agreed": int(a or 0), "agreement": int(a or 0) / int(n)}
                   for v, n, a in models],
    }


def load(engine: Engine, before: dt.datetime | None = None) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Every correction in id order: images (n, 28, 28) uint8 and labels (n,) 0–10."""
    query = select(feedback.c.pixels, feedback.c.label).order_by(feedback.c.id)
    if before is not None:
        query = query.where(feedback.c.created_at < before)
    with engine.connect() as c:
        rows = c.execute(query).all()
    images = np.frombuffer(b"".join(r.pixels for r in rows), np.uint8).reshape(len(rows), 28, 28)
    return images, np.array([r.label for r in rows], np.uint8)


def purge(engine: Engine, before: dt.datetime) -> int:
    """Delete the corrections made before ``before``; the number deleted."""
    with writing(engine), engine.begin() as c:
        return int(c.execute(delete(feedback).where(feedback.c.created_at < before)).rowcount)


def count(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(feedback)).scalar_one())
