"""Every model a deployment serves, by name, and which one answers when a request names none.

``DIGITPAD_MODELS`` is a folder (every ``*.npz`` in it) or a comma-separated list of files.
Without it: every model in the packaged folder (the shipped CNN, the ``handwriting`` CNN, the
``mlp`` preset and the tutorial's ``blog`` 784-10-10) when ``DIGITPAD_WEIGHTS`` is the packaged
default, else that one file. The default model is the one from ``DIGITPAD_WEIGHTS`` if it is
served, else ``digitpad``, else the first by name. Names are the weights' own (``metadata.name``), so
they must differ. ``SEEN_VERSIONS`` keeps every version served since the process started, so that
a correction naming the version that answered it is still accepted after a reload."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.serving.predictor import Predictor, StartupError
from app.settings import DEFAULT_WEIGHTS, Settings
from model.weights import WeightsError


class UnknownModel(LookupError):
    """A request named a model this server does not have (answered 404 ``unknown_model``)."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(name)
        self.name, self.known = name, known


def model_paths(settings: Settings) -> list[Path]:
    if settings.models:
        folder = Path(settings.models)
        if "," not in settings.models and folder.is_dir():
            return sorted(folder.glob("*.npz"))
        return [Path(p.strip()) for p in settings.models.split(",") if p.strip()]
    if settings.weights == DEFAULT_WEIGHTS:
        others = sorted(p for p in DEFAULT_WEIGHTS.parent.glob("*.npz") if p != DEFAULT_WEIGHTS)
        return [DEFAULT_WEIGHTS, *others]
    return [settings.weights]


SEEN_VERSIONS: set[str] = set()  # every model version this process has served since it started


@dataclass
class Models:
    by_name: dict[str, Predictor]
    default: str

    def __post_init__(self) -> None:  # served from now on (a reload builds a new Models)
        SEEN_VERSIONS.update(p.version for p in self.by_name.values())

    def get(self, name: str | None) -> Predictor:
        if name is None:
            return self.by_name[self.default]
        found = self.by_name.get(name)
        if found is None:
            raise UnknownModel(name, list(self.by_name))
        return found


def pick_default(loaded: dict[str, Predictor], settings: Settings) -> str:
    weights = settings.weights.resolve()
    for name, p in loaded.items():
        if p.path.resolve() == weights:
            return name
    return "digitpad" if "digitpad" in loaded else sorted(loaded)[0]


def load_models(settings: Settings) -> Models:
    """Every model of the settings, or StartupError with the one line to print."""
    paths = model_paths(settings)
    if not paths:
        raise StartupError(f"digitpad cannot start: DIGITPAD_MODELS={settings.models} holds no .npz file")
    loaded: dict[str, Predictor] = {}
    for path in paths:
        try:
            p = Predictor.load(path)
        except WeightsError as e:
            raise StartupError(f"digitpad cannot start: weights file {e} "
                               "(set DIGITPAD_WEIGHTS or DIGITPAD_MODELS, or train: python -m scripts.train)") from None
        if p.name in loaded:
            raise StartupError(f"digitpad cannot start: two models are named {p.name!r}: "
                               f"{loaded[p.name].path} and {path}")
        loaded[p.name] = p
    return Models(loaded, pick_default(loaded, settings))
