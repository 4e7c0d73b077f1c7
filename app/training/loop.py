"""A live run's loop, inside the training process (``app.training.process``): steps, the
commands workers append, the events the stream relays, and the limits.

It writes everything to the run's folder (``app.training.runs`` lists the files): events as lines
``<type> <json>``, the state replaced whole, the weights in the weights/ format. Progress points
come at most every ``PROGRESS_EVERY`` seconds, and less often when a look at the validation set
costs more than a quarter of the time between them (the CNN); the first step and the last always
get one. Pictures (the first layer's weights, the grid's answers) come at most every
``PICTURES_EVERY`` seconds, and at every pause, step and end."""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from model import weights
from model.live import RunConfig, Trainer
from model.livedata import load

PROGRESS_EVERY = 0.1    # s between progress points, at least: about ten a second
PICTURES_EVERY = 0.5    # s between weights and grid events while running: about two a second
SAVE_EVERY = 2.0        # s between saves of the weights file while running
HEARTBEAT_EVERY = 0.25  # s between looks at the watched file
WATCH_STALE = 1.0       # s: a watched file older than this means the stream has gone
UNWATCHED = 10.0        # s a run may go before anyone opens its events stream
POLL = 0.02             # s between looks at the commands while paused
GRID = 16               # validation digits shown with the network's current answer
STOPS = {"stop": ("stopped", "Stopped on request."),
         "shutdown": ("stopped", "The server is shutting down."),
         "disconnect": ("disconnected", "The events stream closed: nobody is watching.")}


class Gone(Exception):
    """The run's folder has been removed (the server stopped): nothing is left to write to."""


def num(x: float) -> float | None:
    """A number for JSON: None for NaN and infinities (JSON has neither)."""
    return float(x) if math.isfinite(x) else None


def b64(a: NDArray[np.uint8]) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.uint8).tobytes()).decode("ascii")


def as_pictures(W: NDArray[Any]) -> list[str]:
    """Each row of W as uint8 pixels, scaled symmetrically so that 128 is 0 and ±max|row| is 1 or 255."""
    W = np.nan_to_num(W.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    scale = np.abs(W).max(axis=1, keepdims=True)
    scale[scale == 0] = 1.0
    return [b64(row) for row in np.round(128 + 127 * W / scale).astype(np.uint8)]


class Loop:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.spec: dict[str, Any] = json.loads((folder / "settings.json").read_text())
        asked = dict(self.spec["settings"])
        self.paused = bool(asked.pop("paused", False))
        self.cfg = RunConfig(**asked)
        self.began = time.monotonic()
        self.deadline = self.began + float(self.spec["limits"]["max_seconds"])
        self.events = open(folder / "events.log", "a", encoding="utf-8")  # noqa: SIM115 (open for the run)
        self.read_to = 0         # bytes of the commands file read so far
        self.pending = 0         # steps asked for while paused, not yet taken
        self.message = ""
        self.next_progress = self.next_pictures = self.next_heartbeat = 0.0
        self.next_save = self.began + SAVE_EVERY
        self.val: tuple[float, float] = (math.nan, math.nan)
        self.progress_step = -1  # the step of the last progress point
        self.trainer: Trainer | None = None

    def run(self) -> int:
        try:
            reason = self.train()
        except Gone:
            return 0
        except Exception as e:  # a bug or no memory: said in the run's last event, not lost
            traceback.print_exc()
            reason, self.message = "failed", f"The training process failed: {type(e).__name__}: {str(e)[:200]}"
        with contextlib.suppress(Gone, OSError):  # the folder went meanwhile: nobody to tell
            self.finish(reason)
        return 0

    def emit(self, kind: str, data: dict[str, Any]) -> None:
        self.events.write(f"{kind} {json.dumps(data, separators=(',', ':'), allow_nan=False)}\n")
        self.events.flush()

    def train(self) -> str:
        spec = self.spec
        mnist = spec["mnist_dir"]
        data = load(spec["data"]["source"], Path(mnist) if mnist else None, Path(spec["cache"]))
        t = self.trainer = Trainer(self.cfg, data)
        grid = data.X_val[:GRID]
        self.emit("started", {"settings": spec["settings"], "data": spec["data"], "limits": spec["limits"],
                              "grid": {"images": [b64(np.round(x * 255)) for x in grid],
                                       "labels": [int(v) for v in data.y_val[:GRID]]}})
        self.pictures()
        if self.paused:
            self.save()
            self.emit("paused", {"step": 0})
        else:
            self.next_save = 0.0  # after the first progress point, which the page waits for
        self.write_state()
        while True:
            reason = self.check()
            if reason:
                return reason
            if self.paused and not self.pending:
                time.sleep(POLL)
                continue
            t.step()
            if t.diverged():
                return "diverged"
            if t.steps >= self.cfg.steps:
                return "finished"
            self.after_step()

    def after_step(self) -> None:
        now = time.monotonic()
        if self.paused:  # one step asked for: show all of it
            self.pending -= 1
            self.progress()
            self.pictures()
            self.save()
            return
        if self.progress_step < 0 or now >= self.next_progress:
            self.progress()
        if now >= self.next_pictures:
            self.pictures()
        if now >= self.next_save:
            self.save()

    def check(self) -> str | None:
        """Take the commands appended since the last look; a stop reason, or None to go on."""
        for word in self.commands():
            if word in STOPS:
                reason, self.message = STOPS[word]
                return reason
            if word == "pause" and not self.paused:
                self.pause()
            elif word == "resume" and self.paused:
                self.paused, self.pending = False, 0
                self.emit("resumed", {"step": self.steps()})
                self.write_state()
            elif word == "step" and self.paused:
                self.pending += 1
        now = time.monotonic()
        if now >= self.deadline:
            self.message = f"Stopped at the time limit of {self.spec['limits']['max_seconds']:g} s."
            return "time_limit"
        if now >= self.next_heartbeat:
            self.next_heartbeat = now + HEARTBEAT_EVERY
            return self.heartbeat(now)
        return None

    def commands(self) -> list[str]:
        try:
            with open(self.folder / "commands", "rb") as f:
                f.seek(self.read_to)
                new = f.read()
        except FileNotFoundError:
            return []
        whole = new[:new.rfind(b"\n") + 1]  # a line still being written waits for the next look
        self.read_to += len(whole)
        return whole.decode().split()

    def heartbeat(self, now: float) -> str | None:
        """"disconnected" when nobody streams the events any more (or never opened them)."""
        if not self.folder.is_dir():
            raise Gone
        try:
            stale = time.time() - (self.folder / "watched").stat().st_mtime > WATCH_STALE
        except FileNotFoundError:
            stale = now - self.began > UNWATCHED
        if stale:
            self.message = "Nobody is watching: the events stream closed or was never opened."
            return "disconnected"
        return None

    def pause(self) -> None:
        self.paused, self.pending = True, 0
        if self.progress_step != self.steps():
            self.progress()
        self.pictures()
        self.save()
        self.emit("paused", {"step": self.steps()})
        self.write_state()

    def steps(self) -> int:
        return self.trainer.steps if self.trainer else 0

    def progress(self) -> None:
        t = self.trainer
        assert t is not None
        loss, accuracy = t.report()
        looked = time.monotonic()
        self.val = t.validate()
        now = time.monotonic()
        self.next_progress = now + max(PROGRESS_EVERY, 4 * (now - looked))
        self.progress_step = t.steps
        self.emit("progress", {"step": t.steps, "loss": num(loss), "train_accuracy": num(accuracy),
                               "val_loss": num(self.val[0]), "val_accuracy": num(self.val[1]),
                               "seconds": round(now - self.began, 3)})
        self.write_state()

    def pictures(self) -> None:
        t = self.trainer
        assert t is not None
        units, shape = t.first_layer()
        self.emit("weights", {"step": t.steps, "shape": list(shape), "units": as_pictures(units)})
        answers = t.answers(t.data.X_val[:GRID])
        self.emit("grid", {"step": t.steps, "answers": [int(a) for a in answers]})
        self.next_pictures = time.monotonic() + PICTURES_EVERY

    def save(self) -> None:
        """The weights file, unless the parameters have blown up (then the last finite one stays)."""
        t = self.trainer
        assert t is not None
        if not all(np.isfinite(p).all() for p in t.params):
            return
        weights.save(self.folder / "weights.npz", t.net, {
            "name": "trained", "description": f"trained live: {t.cfg.network}, {t.cfg.optimizer}, "
            f"α = {t.cfg.learning_rate:g}, {t.steps} steps", "training": self.spec["settings"], "step": t.steps,
            "val_accuracy": num(self.val[1])})
        self.next_save = time.monotonic() + SAVE_EVERY

    def write_state(self, **extra: Any) -> None:
        state = {"state": "paused" if self.paused else "running", "step": self.steps(),
                 "loss": num(self.trainer.loss) if self.trainer else None, "val_accuracy": num(self.val[1]),
                 **extra}
        tmp = self.folder / ".state.json"
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self.folder / "state.json")

    def finish(self, reason: str) -> None:
        t = self.trainer
        if reason == "diverged" and t is not None:
            self.message = (f"The loss reached {t.loss:.3g} at step {t.steps}: a learning rate of "
                            f"{t.cfg.learning_rate:g} is too large for {t.cfg.optimizer}, so each step overshoots "
                            "further. Try a smaller one (the tutorial's is 0.1).")
        elif reason == "finished":
            self.message = f"Trained for {self.cfg.steps} steps."
        if t is not None:
            if self.progress_step != t.steps:
                self.progress()
            self.pictures()
            self.save()
        confusion = t.confusion().tolist() if t is not None else None
        self.emit("stopped", {"reason": reason, "message": self.message, "step": self.steps(),
                              "loss": num(t.loss) if t else None, "val_accuracy": num(self.val[1]),
                              "confusion": confusion})
        self.paused = False
        self.write_state(state="stopped", reason=reason, message=self.message)
