"""The cheapest bodies that cost a server the most (issue 25's probes), for the hostile-traffic
benchmark and tests: small PNGs whose drawings are pathological for the reading path, and JSON
bodies that are costly to parse or validate. Each function returns what a client sends."""

from __future__ import annotations

import base64
import io
import itertools
import json
import math
import time
from collections.abc import Callable

import numpy as np
from PIL import Image


def least_cpu(fn: Callable[[], object], runs: int = 3, enough: float = math.inf) -> tuple[float, str]:
    """The least CPU time (this process) of up to ``runs`` runs of fn (no more once one took
    ``enough`` seconds), and how it ended: "ok", or the code of the input error it raised."""
    from app.imaging.errors import InputError  # the harness imports the app only where it measures it

    best, ended = math.inf, "ok"
    for _ in range(runs):
        t = time.process_time()
        try:
            fn()
        except InputError as e:
            ended = e.code
        best = min(best, time.process_time() - t)
        if best > enough:
            break
    return best, ended


def png(a: np.ndarray) -> str:
    """A uint8 "L" array (0 white paper … 255 black ink) → base64 PNG, dark ink on white."""
    buf = io.BytesIO()
    Image.fromarray((255 - a).astype(np.uint8), "L").save(buf, "PNG", optimize=True)
    return base64.b64encode(buf.getvalue()).decode()


def one() -> str:
    """A typical drawing to compare with: a "1" as a thick stroke, 240×144 px."""
    return png(np.pad(np.full((120, 24), 255, np.uint8), 60))


def thin_lines(width: int = 4096, lines: int = 48, gap: int = 40) -> str:
    """``lines`` one-pixel-tall lines ``width`` wide: each a component far wider than tall."""
    a = np.zeros((lines * gap, width), np.uint8)
    a[gap // 2::gap] = 255
    return png(a)


def specks(side: int = 1024, step: int = 2) -> str:
    """A grid of one-pixel specks, ``step`` apart: (side / step)² components (262k by default)."""
    a = np.zeros((side, side), np.uint8)
    a[::step, ::step] = 255
    return png(a)


def comb(side: int = 1024, teeth: int = 128) -> str:
    """A serpentine: one component whose ``teeth`` vertical strokes are joined alternately at the
    top and the bottom, so that it encloses long, bent, narrow holes."""
    a = np.zeros((side, side), np.uint8)
    xs = np.linspace(8, side - 8, teeth).astype(int)
    a[8:side - 8, xs] = 255
    for k, (x0, x1) in enumerate(itertools.pairwise(xs)):
        a[8 if k % 2 else side - 9, x0:x1 + 1] = 255
    return png(a)


def checkerboard(side: int = 1024) -> str:
    """Every other pixel inked: the most runs and holes an image of that size can hold."""
    a = np.indices((side, side)).sum(axis=0) % 2 * 255
    return png(a.astype(np.uint8))


def empty_inputs(n: int = 260_000) -> bytes:
    """A batch of ``n`` empty objects (``{"inputs":[{},{},…]}``): every one an error."""
    return b'{"inputs":[' + b",".join([b"{}"] * n) + b"]}"


def string_pixels(n: int = 260_000) -> bytes:
    """``pixels`` as ``n`` empty strings: every one an error."""
    return json.dumps({"pixels": [""] * n}, separators=(",", ":")).encode()


def deep(depth: int = 100_000) -> bytes:
    """Arrays nested ``depth`` deep in ``pixels``."""
    return b'{"pixels":' + b"[" * depth + b"]" * depth + b"}"


def size_kb(body: str | bytes) -> float:
    return len(body) / 1024


def mesh(side: int = 1024, step: int = 2) -> str:
    """A grid of one-pixel lines ``step`` apart, inside a margin of paper: one component that
    encloses ((side - 16) / step)² one-pixel holes."""
    a = np.zeros((side, side), np.uint8)
    a[8:side - 8:step, 8:side - 8] = 255
    a[8:side - 8, 8:side - 8:step] = 255
    return png(a)


def rings(side: int = 1024, step: int = 4) -> str:
    """Nested square rings ``step`` apart: every ring a piece inside the one round it, and every
    gap between two a long, thin, bent hole."""
    a = np.zeros((side, side), np.uint8)
    for k in range(8, side // 2, step):
        a[k, k:side - k] = a[side - k - 1, k:side - k] = 255
        a[k:side - k, k] = a[k:side - k, side - k - 1] = 255
    return png(a)


def zigzag(side: int = 1024, teeth: int = 64) -> str:
    """One long diagonal zigzag stroke across the canvas, ``teeth`` times up and down: one wide
    component whose every column holds ink at two heights."""
    a = np.zeros((side, side), np.uint8)
    x = np.arange(8, side - 8)
    period = (side - 16) / teeth
    y = (8 + (side - 17) * np.abs(((x - 8) / period) % 2 - 1)).astype(int)
    a[y, x] = 255
    a[np.minimum(y + 1, side - 1), x] = 255
    return png(a)


def wide_pieces(side: int = 1024, pieces: int = 48) -> str:
    """``pieces`` horizontal bars, each wide and a few pixels tall, stacked: under the limit of
    pieces a number may have, but each wide enough to be cut many times."""
    a = np.zeros((side, side), np.uint8)
    gap = side // (pieces + 1)
    for k in range(1, pieces + 1):
        a[k * gap:k * gap + 3, 8:side - 8] = 255
    return png(a)
