"""Which image library for the photo path: numpy + Pillow (what app/imaging/photo.py uses),
scipy.ndimage, OpenCV's headless build (cv2) and scikit-image, on the classic operations a
photo of writing needs, by speed, quality and installed size (issue 28).

    python -m scripts.bench.photo_libs                        # all three parts, with what is installed
    python -m scripts.bench.photo_libs --only speed --sizes 1000x750
    python -m scripts.bench.photo_libs --only quality --photos 50
    python -m scripts.bench.photo_libs --only size --wheels /tmp/wheels     # also the wheels' sizes

scipy, OpenCV and scikit-image are not digitpad's dependencies; a library that is not installed
is left out ("not installed"). To compare all four, in a throwaway venv (never the project's):

    python -m venv /tmp/venv-libs
    /tmp/venv-libs/bin/pip install numpy pillow pyspng zlib-ng scipy opencv-python-headless scikit-image
    OPENBLAS_NUM_THREADS=1 /tmp/venv-libs/bin/python -m scripts.bench.photo_libs    # from the checkout

**Speed**: CPU (this process, ``time.process_time``) per operation on a greyscale photo of each
size (``make_photos.photo_at``, a digit, seed 0, as ``scripts.bench.photo`` makes them; 1000×750
is what the app works on once a 4000×3000 JPEG is decoded reduced, 1600×1200 it takes to 800×600), the
median of ``--repeats`` runs, the libraries alternated within each repeat. OpenCV runs on one
thread (``cv2.setNumThreads(1)``), as a server's CPU thread would. An operation whose cost,
extrapolated from a 256 × 256 crop, passes ``--budget`` seconds is not run. The operations,
their sizes scaled with the photo's long side L:

- the paper's light: ``photo.paper_light`` itself (the grey photo as three channels); a grey
  closing (10 % of L) on a copy about 200 px long, scaled back up (what ``paper_light`` does, per
  channel); the same closing at full size; a median (10 % of L) on the copy;
- Gaussian blur, σ = 1 px (a photo's noise) and σ = 2 % of L (a blur as the paper's light);
- adaptive thresholds: below the local mean (window L / 32) or Gaussian mean, by 10 grey levels;
- connected components with their areas and boxes, 8-connected, of an ink mask of the photo;
- hysteresis: the pieces of the faint ink that hold some strong ink;
- Hough lines within 12° of the rows (0.5° steps; a line must cover 30 % of the width).

**Quality**: the ink masks each library's simplest pipeline gives (the paper's light → ink =
1 − pixel ÷ light → a threshold; or a local threshold with no light), against the generator's
ground truth (``make_photos.truth``: the writing's clean coverage over 0.5, warped as the photo
was), on the first ``--photos`` photos of the seed-0 sets (half digits, half numbers; the files
``make_photos --seed 0`` writes), each decoded as the server decodes it (reduced to about a
megapixel, EXIF applied), in greyscale. Scored on the paper only (the sheet's truth), mean F1
and IoU over the photos, each pipeline at its best threshold of a few (tuned on these photos:
seed 0 is the tuning seed). For a light estimate also how uneven the paper is left: the robust
spread (1.4826 × MAD) of paper ÷ light on the paper's pixels away from the ink, after a 5 × 5
box blur (the camera's noise mostly averaged out). ``photo.photo_ink`` (the app's whole
pipeline, RGB) is scored beside them for reference.

**Size**: each library's installed files (from its RECORD, no ``__pycache__``: what the container
holds) and those of the dependencies it brings that digitpad does not already lock
(requirements.lock); with ``--wheels DIR``, the sizes of the wheels found there."""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import importlib.metadata as metadata
import io
import math
import os
import re
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter

from app.imaging.components import label, numbered
from app.imaging.photo import paper_light
from scripts.harness.server import ROOT

U8 = NDArray[np.uint8]
F32 = NDArray[np.float32]
Mask = NDArray[np.bool_]
LIBS = ("numpy+Pillow", "scipy", "OpenCV", "scikit-image")
MODULES = {"scipy": "scipy.ndimage", "OpenCV": "cv2", "scikit-image": "skimage"}
DISTRIBUTIONS = {"scipy": "scipy", "OpenCV": "opencv-python-headless", "scikit-image": "scikit-image"}
LIGHT_SIDE = 200  # px: the copy the paper's light is found on, as in app/imaging/photo.py
REACH = 0.1  # the closing's size, of the long side
TILT = 12.0  # degrees either side of the rows, for the Hough lines
THRESHOLDS = (0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)  # ink: darker than its paper by this share
OFFSETS = (5, 10, 15, 20, 30)  # grey levels below the local mean, for the adaptive thresholds
Op = Callable[[], object]


def loaded() -> dict[str, Any]:
    """The libraries that import, by name (numpy+Pillow always); OpenCV on one thread."""
    found: dict[str, Any] = {"numpy+Pillow": np}
    for lib, module in MODULES.items():
        with contextlib.suppress(ImportError):
            found[lib] = importlib.import_module(module)
    if "OpenCV" in found:
        found["OpenCV"].setNumThreads(1)
    if "scikit-image" in found:
        for sub in ("filters", "morphology", "measure", "transform", "filters.rank"):
            importlib.import_module(f"skimage.{sub}")
    return found


def odd(x: float) -> int:
    return 2 * max(1, round(x / 2)) + 1


# ---- numpy + Pillow: the operations written as app/imaging/photo.py would --------------------------

def sliding(a: NDArray[Any], k: int, op: np.ufunc) -> NDArray[Any]:
    """``op`` (np.maximum or np.minimum) over k consecutive rows centred on each row (edges repeated):
    van Herk / Gil-Werman, three passes whatever k, each a row-vectorised accumulate."""
    r, n = k // 2, a.shape[0]
    extra = -(n + 2 * r) % k
    p = np.pad(a, [(r, r + extra)] + [(0, 0)] * (a.ndim - 1), mode="edge")
    blocks = p.reshape(-1, k, *a.shape[1:])
    ahead = op.accumulate(blocks, axis=1).reshape(p.shape)
    behind = op.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].reshape(p.shape)
    return op(behind[:n], ahead[k - 1:k - 1 + n])


def np_closing(a: NDArray[Any], k: int) -> NDArray[Any]:
    """A grey closing by a k × k square: the max of maxes along rows then columns, then the min."""
    for op in (np.maximum, np.minimum):
        a = sliding(sliding(a, k, op).T, k, op).T
    return a


def reduced(grey: U8, L: int | None = None) -> tuple[U8, int]:
    """A box-averaged copy about ``LIGHT_SIDE`` px long (Pillow's reduce), and the factor (for a
    photo whose long side is ``L``, by default the grey's)."""
    factor = max(1, math.ceil((L or max(grey.shape)) / LIGHT_SIDE))
    return np.array(Image.fromarray(grey).reduce(factor)), factor


def pil_upscaled(small: U8, shape: tuple[int, ...]) -> U8:
    """A grey copy scaled back up to ``shape`` (bilinear), still 8-bit, as OpenCV's resize gives it."""
    return np.asarray(Image.fromarray(small).resize((shape[1], shape[0]), Image.Resampling.BILINEAR))


def np_light_small(grey: U8, L: int | None = None) -> U8:
    small, factor = reduced(grey, L)
    return pil_upscaled(np_closing(small, odd(REACH * (L or max(grey.shape)) / factor)), grey.shape)


def np_median_small(grey: U8, L: int | None = None) -> U8:
    small, factor = reduced(grey, L)
    k = odd(REACH * (L or max(grey.shape)) / factor)
    med = np.asarray(Image.fromarray(small).filter(ImageFilter.MedianFilter(k)))
    return pil_upscaled(med, grey.shape)


def np_box_mean(grey: U8, k: int) -> F32:
    """The mean over a k × k window round each pixel (edges repeated), from an integral image."""
    r = k // 2
    p = np.pad(grey.astype(np.int32), r, mode="edge")  # sums of up to 8 megapixels fit 32 bits
    s = np.zeros((p.shape[0] + 1, p.shape[1] + 1), np.int32)
    s[1:, 1:] = p.cumsum(0).cumsum(1)
    h, w = grey.shape
    total = s[k:k + h, k:k + w] - s[:h, k:k + w] - s[k:k + h, :w] + s[:h, :w]
    return (total / (k * k)).astype(np.float32)


def pil_box_mean(grey: U8, k: int) -> F32:
    """The mean over a k × k window round each pixel (Pillow's box blur, edges repeated), to a grey level."""
    return np.asarray(Image.fromarray(grey).filter(ImageFilter.BoxBlur(k // 2)), np.float32)


def np_components(mask: Mask) -> tuple[int, NDArray[np.int64]]:
    """The components of ``mask`` (app.imaging.components: runs, not pixels) with their areas and
    boxes (top, left, bottom, right), computed on the runs."""
    (rows, starts, ends), number, k = numbered(mask)
    area = np.bincount(number, weights=ends - starts, minlength=k).astype(np.int64)
    box = np.stack([np.full(k, 1 << 30), np.full(k, 1 << 30), np.full(k, -1), np.full(k, -1)])
    np.minimum.at(box[0], number, rows)
    np.minimum.at(box[1], number, starts)
    np.maximum.at(box[2], number, rows)
    np.maximum.at(box[3], number, ends - 1)
    return k, np.vstack([area, box])


def keep_touching(labels: NDArray[Any], strong: Mask) -> Mask:
    """The labelled pieces (label > 0) that hold a ``strong`` pixel."""
    keep = np.zeros(int(labels.max()) + 1, bool)
    keep[labels[strong]] = True
    keep[0] = False
    return keep[labels]


def hough_angles() -> NDArray[np.float64]:
    return np.radians(np.arange(-TILT, TILT + 0.01, 0.5))


def np_hough(mask: Mask, votes: int) -> list[tuple[float, float]]:
    """Lines (angle from the rows, ρ = y cos a − x sin a) that ``votes`` inked pixels lie on: one
    bincount per angle over every pixel, then the strongest, one per ρ band, as photo.py does."""
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    angles = hough_angles()
    span = h + w + 2
    acc = np.empty((len(angles), span), np.int64)
    for i, a in enumerate(angles):
        rho = np.round(ys * math.cos(a) - xs * math.sin(a)).astype(np.int64) + w + 1
        acc[i] = np.bincount(rho, minlength=span)[:span]
    found: list[tuple[float, float]] = []
    while len(found) < 80:
        i, r = (int(v) for v in np.unravel_index(int(np.argmax(acc)), acc.shape))
        if acc[i, r] < votes:
            break
        found.append((float(angles[i]), float(r - w - 1)))
        acc[:, max(0, r - 4):r + 5] = 0
    return found


# ---- the operations, per library -----------------------------------------------------------------

@dataclass
class Inputs:
    """One photo in the forms the operations take: grey (H, W) uint8, its ink (H, W) float32 in
    [0, 1] and the masks of faint and strong ink."""

    grey: U8
    dark: F32
    mask: Mask
    strong: Mask
    L: int  # the long side of the photo the operations' sizes are set for (a crop's: its photo's)

    @classmethod
    def of(cls, grey: U8, L: int | None = None) -> Inputs:
        dark = np.clip(1 - grey / np.maximum(np_light_small(grey, L), 1), 0, 1).astype(np.float32)
        return cls(grey, dark, dark > 0.15, dark > 0.3, L or max(grey.shape))


COPY, FULL, MEDIAN = "closing, ~200 px copy", "closing, full size", "median, ~200 px copy"
Light = Callable[[U8, int], NDArray[Any]]


def lights(libs: dict[str, Any]) -> dict[tuple[str, str], Light]:
    """(method, library) → the paper's light (H, W) of a grey photo whose long side is L (a crop's:
    its photo's): a closing (10 % of L) on the small copy, the same closing at full size, a median
    on the small copy; each library's own resizing (scipy.ndimage has no area reduction: Pillow's)."""
    found: dict[tuple[str, str], Light] = {(COPY, "numpy+Pillow"): np_light_small,
                                           (FULL, "numpy+Pillow"): lambda g, L: np_closing(g, odd(REACH * L)),
                                           (MEDIAN, "numpy+Pillow"): np_median_small}
    for lib, make in (("scipy", nd_lights), ("OpenCV", cv_lights), ("scikit-image", sk_lights)):
        if lib in libs:
            found.update({(method, lib): fn for method, fn in make(libs[lib]).items()})
    return found


def small_k(L: int, factor: int) -> int:
    """The closing's (and median's) size on the copy reduced by ``factor``."""
    return odd(REACH * L / factor)


def nd_lights(nd: Any) -> dict[str, Light]:
    def up(a: NDArray[Any], shape: tuple[int, ...]) -> NDArray[Any]:
        return cast_any(nd.zoom(a, (shape[0] / a.shape[0], shape[1] / a.shape[1]), order=1))

    def copy(g: U8, L: int) -> NDArray[Any]:
        small, factor = reduced(g, L)
        return up(nd.grey_closing(small, size=(small_k(L, factor),) * 2), g.shape)

    def median(g: U8, L: int) -> NDArray[Any]:
        small, factor = reduced(g, L)
        return up(nd.median_filter(small, size=small_k(L, factor)), g.shape)
    return {COPY: copy, FULL: lambda g, L: cast_any(nd.grey_closing(g, size=(odd(REACH * L),) * 2)), MEDIAN: median}


def cv_lights(cv: Any) -> dict[str, Light]:
    def small(g: U8, L: int) -> tuple[NDArray[Any], int]:
        factor = reduced(g, L)[1]
        size = (math.ceil(g.shape[1] / factor), math.ceil(g.shape[0] / factor))
        return cv.resize(g, size, interpolation=cv.INTER_AREA), small_k(L, factor)

    def copy(g: U8, L: int) -> NDArray[Any]:
        a, k = small(g, L)
        return cast_any(cv.resize(cv.morphologyEx(a, cv.MORPH_CLOSE, np.ones((k, k), np.uint8)), g.shape[::-1]))

    def full(g: U8, L: int) -> NDArray[Any]:
        k = odd(REACH * L)
        return cast_any(cv.morphologyEx(g, cv.MORPH_CLOSE, np.ones((k, k), np.uint8)))
    return {COPY: copy, FULL: full, MEDIAN: lambda g, L: cast_any(cv.resize(cv.medianBlur(*small(g, L)),
                                                                                 g.shape[::-1]))}


def sk_lights(sk: Any) -> dict[str, Light]:
    def rect(k: int) -> object:
        return sk.morphology.footprint_rectangle((k, k), decomposition="separable")

    def copy(g: U8, L: int) -> NDArray[Any]:
        factor = reduced(g, L)[1]
        small = sk.transform.downscale_local_mean(g, factor)
        return cast_any(sk.transform.resize(sk.morphology.closing(small, rect(small_k(L, factor))), g.shape, order=1))

    def median(g: U8, L: int) -> NDArray[Any]:
        small, factor = reduced(g, L)
        k = small_k(L, factor)
        return cast_any(sk.transform.resize(sk.filters.rank.median(small, np.ones((k, k), np.uint8)), g.shape,
                                            order=1, preserve_range=True))
    return {COPY: copy, FULL: lambda g, L: cast_any(sk.morphology.closing(g, rect(odd(REACH * L)))), MEDIAN: median}


def cast_any(a: Any) -> NDArray[Any]:
    """A library's array result, typed."""
    return np.asarray(a)


def light_ops(x: Inputs, libs: dict[str, Any]) -> dict[str, dict[str, Op]]:
    """The paper's light: ``photo.paper_light`` itself, and ``lights``."""
    g, L = x.grey, x.L
    rgb = np.repeat(g[..., None], 3, axis=2).astype(np.float32)
    ops: dict[str, dict[str, Op]] = {"light: photo.paper_light (RGB)": {"numpy+Pillow": lambda: paper_light(rgb)}}
    for (method, lib), fn in lights(libs).items():
        ops.setdefault(f"light: {method}", {})[lib] = functools.partial(fn, g, L)
    return ops


def filter_ops(x: Inputs, libs: dict[str, Any]) -> dict[str, dict[str, Op]]:
    """Gaussian blurs and adaptive thresholds."""
    g, L = x.grey, x.L
    big, block = 0.02 * L, odd(L / 32)
    blur1, blur_big = "Gaussian blur, σ 1 px", "Gaussian blur, σ 2 % of L"
    mean_t, gauss_t = "adaptive threshold, mean", "adaptive threshold, Gaussian"
    ops: dict[str, dict[str, Op]] = {
        blur1: {"numpy+Pillow": lambda: Image.fromarray(g).filter(ImageFilter.GaussianBlur(1))},
        blur_big: {"numpy+Pillow": lambda: Image.fromarray(g).filter(ImageFilter.GaussianBlur(big))},
        mean_t: {"numpy+Pillow": lambda: g < pil_box_mean(g, block) - 10},
        gauss_t: {"numpy+Pillow": lambda: g < np.asarray(
            Image.fromarray(g).filter(ImageFilter.GaussianBlur(block / 6)), np.float32) - 10}}
    if nd := libs.get("scipy"):
        ops[blur1]["scipy"] = lambda: nd.gaussian_filter(g, 1)
        ops[blur_big]["scipy"] = lambda: nd.gaussian_filter(g, big)
        ops[mean_t]["scipy"] = lambda: g < nd.uniform_filter(g.astype(np.float32), block, mode="nearest") - 10
        ops[gauss_t]["scipy"] = lambda: g < nd.gaussian_filter(g.astype(np.float32), block / 6) - 10
    if cv := libs.get("OpenCV"):
        ops[blur1]["OpenCV"] = lambda: cv.GaussianBlur(g, (0, 0), 1)
        ops[blur_big]["OpenCV"] = lambda: cv.GaussianBlur(g, (0, 0), big)
        ops[mean_t]["OpenCV"] = lambda: cv.adaptiveThreshold(g, 1, cv.ADAPTIVE_THRESH_MEAN_C, cv.THRESH_BINARY_INV,
                                                            block, 10)
        ops[gauss_t]["OpenCV"] = lambda: cv.adaptiveThreshold(g, 1, cv.ADAPTIVE_THRESH_GAUSSIAN_C,
                                                             cv.THRESH_BINARY_INV, block, 10)
    if "scikit-image" in libs:
        f = libs["scikit-image"].filters
        ops[blur1]["scikit-image"] = lambda: f.gaussian(g, sigma=1, preserve_range=True)
        ops[blur_big]["scikit-image"] = lambda: f.gaussian(g, sigma=big, preserve_range=True)
        ops[mean_t]["scikit-image"] = lambda: g < f.threshold_local(g, block, method="mean", offset=10)
        ops[gauss_t]["scikit-image"] = lambda: g < f.threshold_local(g, block, method="gaussian", offset=10)
    return ops


def mask_ops(x: Inputs, libs: dict[str, Any]) -> dict[str, dict[str, Op]]:
    """Connected components with stats, hysteresis and Hough lines, on the photo's ink mask."""
    m, strong, votes = x.mask, x.strong, int(0.3 * x.mask.shape[1])
    m8 = m.astype(np.uint8)
    comps, hyst, hough = "connected components, areas, boxes", "hysteresis", "Hough lines, ±12° of the rows"
    ops: dict[str, dict[str, Op]] = {comps: {"numpy+Pillow": lambda: np_components(m)},
                                     hyst: {"numpy+Pillow": lambda: keep_touching(label(m)[0], strong)},
                                     hough: {"numpy+Pillow": lambda: np_hough(m, votes)}}
    if nd := libs.get("scipy"):
        eight = np.ones((3, 3), bool)

        def scipy_components() -> object:
            labels, n = nd.label(m, eight)
            return n, np.bincount(labels.ravel()), nd.find_objects(labels)
        ops[comps]["scipy"] = scipy_components
        ops[hyst]["scipy"] = lambda: keep_touching(nd.label(m, eight)[0], strong)
    if cv := libs.get("OpenCV"):
        lo, hi = math.radians(90 - TILT), math.radians(90 + TILT)
        ops[comps]["OpenCV"] = lambda: cv.connectedComponentsWithStats(m8, connectivity=8)
        ops[hyst]["OpenCV"] = lambda: keep_touching(cv.connectedComponents(m8, connectivity=8)[1], strong)
        ops[hough]["OpenCV"] = lambda: cv.HoughLines(m8, 1, math.radians(0.5), votes, min_theta=lo, max_theta=hi)
    if "scikit-image" in libs:
        sk = libs["scikit-image"]
        theta = np.radians(np.arange(90 - TILT, 90 + TILT + 0.01, 0.5))

        def sk_components() -> object:
            labels = sk.measure.label(m, connectivity=2)
            return np.bincount(labels.ravel()), sk.measure.regionprops(labels)
        ops[comps]["scikit-image"] = sk_components
        ops[hyst]["scikit-image"] = lambda: sk.filters.apply_hysteresis_threshold(x.dark, 0.15, 0.3)
        ops[hough]["scikit-image"] = lambda: sk.transform.hough_line_peaks(
            *sk.transform.hough_line(m, theta=theta), threshold=votes, num_peaks=80)
    return ops


# ---- speed ---------------------------------------------------------------------------------------

def cpu_s(fn: Op) -> float:
    t = time.process_time()
    fn()
    return time.process_time() - t


Build = Callable[[Inputs, dict[str, Any]], dict[str, dict[str, Op]]]


def estimate_s(build: Build, x: Inputs, op: str, lib: str) -> float:
    """The operation's CPU on a 256 × 256 crop of the photo, scaled by the pixels."""
    h, w = x.grey.shape
    y0, x0 = (h - 256) // 2, (w - 256) // 2
    crop = Inputs.of(np.ascontiguousarray(x.grey[y0:y0 + 256, x0:x0 + 256]), x.L)
    fn = build(crop, LIBRARIES)[op][lib]
    fn()
    return cpu_s(fn) * h * w / 256 ** 2


LIBRARIES: dict[str, Any] = {}


def speed(size: tuple[int, int], repeats: int, budget: float) -> None:
    """Print the CPU of each operation and library on a photo of ``size``."""
    from scripts.bench.photo import cache_dir, photo_files
    body = photo_files("digits", size, 1, cache_dir(ROOT))[0]
    from PIL import ImageOps
    grey = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(body))).convert("L"))
    x = Inputs.of(grey)
    L = max(size)
    print(f"\n{size[0]}×{size[1]} greyscale photo, L = {L}: closing {odd(REACH * L)} px, blur σ {0.02 * L:.0f} px, "
          f"threshold windows {odd(L / 32)} px; ink mask {x.mask.mean():.1%} of the pixels. CPU ms, median of "
          f"{repeats}; (×) = ÷ numpy+Pillow's")
    print(f"  {'operation':36s}" + "".join(f" {lib:>20s}" for lib in LIBS))
    for build in (light_ops, filter_ops, mask_ops):
        for op, fns in build(x, LIBRARIES).items():
            times: dict[str, list[float]] = {lib: [] for lib in fns}
            skipped = {lib: estimate_s(build, x, op, lib) for lib in fns}
            run = [lib for lib in fns if skipped[lib] <= budget]
            for lib in run:
                fns[lib]()  # warm-up
            for _ in range(repeats):
                for lib in run:
                    times[lib].append(cpu_s(fns[lib]) * 1000)
            print(f"  {op:36s}" + "".join(f" {cell(lib, times, skipped, budget):>20s}" for lib in LIBS))


def cell(lib: str, times: dict[str, list[float]], estimates: dict[str, float], budget: float) -> str:
    if lib not in LIBRARIES:
        return "not installed"
    if lib not in times:
        return "—"
    if not times[lib]:
        return f"> {budget:g} s (≈{estimates[lib]:.0f} s)"
    ms = statistics.median(times[lib])
    base = times.get("numpy+Pillow")
    return f"{ms:.1f}" + (f" ({ms / statistics.median(base):.2f}×)" if base and lib != "numpy+Pillow" else "")


# ---- quality -------------------------------------------------------------------------------------

@dataclass
class Scored:
    """One photo as the server sees it (greyscale, reduced, upright), its RGB, and its truth: the
    paper (the pixels fully on the sheet) where it is scored, the ink there (1-D, over the paper's
    pixels), and the plain paper at least 3 px from the ink with its 5 × 5 box blur there (1-D)."""

    grey: U8
    rgb: Image.Image
    paper: Mask
    ink: Mask
    plain: Mask
    blurred: F32

    @classmethod
    def of(cls, rgb: Image.Image, ink: Mask, paper: Mask) -> Scored:
        grey = np.asarray(rgb.convert("L"))
        near = sliding(sliding(ink, 7, np.maximum).T, 7, np.maximum).T
        plain = paper & ~near
        return cls(grey, rgb, paper, ink[paper], plain, np_box_mean(grey, 5)[plain])


def quality_set(count: int, sides: tuple[int, int]) -> list[Scored]:
    """The first ``count`` photos of the seed-0 sets (half digits, half numbers), made (or read from
    data/bench/truth/) with their ground truth, decoded as the server decodes them."""
    from scripts.bench.photo import cache_dir
    cache = cache_dir(ROOT).parent.parent / "truth" / cache_dir(ROOT).name
    found = []
    for i in range(count):
        kind, n = ("digits", i // 2) if i % 2 == 0 else ("numbers", i // 2)
        path = cache / f"{kind}-{sides[0]}-{sides[1]}-seed0-{n}"
        if not path.with_suffix(".npz").exists():
            make_truth(kind, n, sides, path)
        found.append(decoded(path))
    return found


def make_truth(kind: str, n: int, sides: tuple[int, int], path: Path) -> None:
    """Photo n of ``make_photos --kind KIND --seed 0 --sides …`` (the same stream, the same file) as
    ``path``.jpg, and its truth as ``path``.npz: the ink (coverage over 0.5) and the paper, each
    brought to the size the app decodes the photo to (a box reduction: the ink where over half
    the pixels were, the paper where all were)."""
    from model.mnist import read_idx
    from scripts.datasets.make_photos import (
        FONT_FOLDERS,
        KINDS,
        draw_conditions,
        font_files,
        placed_photo,
        save_photo,
        truth,
    )
    data = ROOT / "tests" / "data"
    X = read_idx(data / "t10k-sample-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) * np.float32(1 / 255)
    y = read_idx(data / "t10k-sample-labels-idx1-ubyte.gz")
    rng = np.random.default_rng([0, KINDS.index(kind), n])
    cond = draw_conditions(kind, rng, sides)
    img, _, placed = placed_photo(kind, cond, X, y, font_files(FONT_FOLDERS), rng, sides[1])
    ink, paper = truth(cond, placed)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_photo(img, path.with_suffix(".jpg"), cond.jpeg, cond.exif)
    size = app_decoded(path).size

    def share(a: NDArray[np.float32]) -> NDArray[np.float32]:
        return np.asarray(Image.fromarray(a, "F").resize(size, Image.Resampling.BOX))
    np.savez_compressed(path.with_suffix(".npz"), ink=share((ink > 0.5).astype(np.float32)) > 0.5,
                        paper=share((paper > 0.5).astype(np.float32)) > 0.99)


def app_decoded(path: Path) -> Image.Image:
    """``path``.jpg as the app decodes it: reduced to about a megapixel, EXIF applied, RGB."""
    from app.imaging.decode import ImageLimits, decode_image
    return decode_image(path.with_suffix(".jpg").read_bytes(), ImageLimits()).convert("RGB")


def decoded(path: Path) -> Scored:
    """The photo as the app decodes it, and its truth at that size."""
    with np.load(path.with_suffix(".npz")) as t:
        return Scored.of(app_decoded(path), t["ink"], t["paper"])


def f1_iou(found: Mask, s: Scored) -> tuple[float, float]:
    """F1 and IoU of an ink mask over the paper's pixels (1-D, as ``s.ink``) against the truth."""
    tp = int(np.count_nonzero(found & s.ink))
    fp, fn = int(np.count_nonzero(found)) - tp, int(np.count_nonzero(s.ink)) - tp
    return 2 * tp / max(2 * tp + fp + fn, 1), tp / max(tp + fp + fn, 1)


def unevenness(light: NDArray[Any], s: Scored) -> float:
    """How uneven the paper is left: 1.4826 × MAD of (5 × 5 box-blurred paper) ÷ light, on the
    paper's pixels at least 3 px from the ink."""
    ratio = s.blurred / np.maximum(light[s.plain], 1)
    return float(1.4826 * np.median(np.abs(ratio - np.median(ratio)))) if ratio.size else 0.0


def light_methods(libs: dict[str, Any]) -> dict[tuple[str, str], Callable[[U8], NDArray[Any]]]:
    """(method, library) → the paper's light (H, W) of a greyscale photo: ``lights`` and a blur."""
    found: dict[tuple[str, str], Callable[[U8], NDArray[Any]]] = {
        key: functools.partial(whole, fn) for key, fn in lights(libs).items()}
    found["Gaussian blur, σ 2 % of L", "numpy+Pillow"] = lambda g: np.asarray(
        Image.fromarray(g).filter(ImageFilter.GaussianBlur(0.02 * max(g.shape))))
    return found


def whole(fn: Light, g: U8) -> NDArray[Any]:
    """``fn`` on a whole photo: its sizes set by its own long side."""
    return fn(g, max(g.shape))


def local_methods(libs: dict[str, Any]) -> dict[tuple[str, str], Callable[[U8, float], Mask]]:
    """(method, library) → the ink mask of a greyscale photo, for a parameter (``OFFSETS``, or
    Sauvola's k)."""
    def block(g: U8) -> int:
        return odd(max(g.shape) / 32)
    found: dict[tuple[str, str], Callable[[U8, float], Mask]] = {
        ("adaptive threshold, mean", "numpy+Pillow"): lambda g, c: g < pil_box_mean(g, block(g)) - c}
    if cv := libs.get("OpenCV"):
        found["adaptive threshold, Gaussian", "OpenCV"] = lambda g, c: cv.adaptiveThreshold(
            g, 1, cv.ADAPTIVE_THRESH_GAUSSIAN_C, cv.THRESH_BINARY_INV, block(g), c) > 0
    if "scikit-image" in libs:
        f = libs["scikit-image"].filters
        found["Sauvola (k × 100)", "scikit-image"] = lambda g, k: g < f.threshold_sauvola(g, block(g), k / 100)
    return found


def score(masks: Callable[[int, float], Mask], photos: list[Scored], params: tuple[float, ...]
          ) -> tuple[float, float, float]:
    """The parameter with the best mean F1 over the photos (``masks(i, p)``: photo i's mask over its
    paper's pixels, 1-D), that F1 and the mean IoU."""
    best = (0.0, -1.0, 0.0)
    for p in params:
        f1, iou = np.mean([f1_iou(masks(i, p), s) for i, s in enumerate(photos)], axis=0)
        if f1 > best[1]:
            best = (p, float(f1), float(iou))
    return best


def median_ms(fn: Callable[[U8], object], photos: list[Scored]) -> float:
    """The median CPU (ms) of ``fn`` on the first ten photos' grey."""
    return statistics.median(cpu_s(lambda: fn(s.grey)) * 1000 for s in photos[:10])  # noqa: B023 (called at once)


def quality(count: int, sides: tuple[int, int]) -> None:
    t0 = time.monotonic()
    photos = quality_set(count, sides)
    pixels = statistics.median(s.grey.size for s in photos) / 1e6
    print(f"\nquality: {len(photos)} photos (seed 0, sides {sides[0]}–{sides[1]} px; decoded: median {pixels:.2f} "
          f"megapixels; ready in {time.monotonic() - t0:.0f} s); ink masks against the truth, on the paper")
    print(f"  {'pipeline':58s} {'library':>13s} {'best at':>8s} {'F1':>6s} {'IoU':>6s} {'uneven':>7s} {'CPU ms':>7s}")
    for (name, lib), fn in light_methods(LIBRARIES).items():
        light_rows(name, lib, fn, photos)
    for (name, lib), local in local_methods(LIBRARIES).items():
        params = (10.0, 20.0, 30.0, 40.0) if name.startswith("Sauvola") else tuple(float(c) for c in OFFSETS)
        ms = median_ms(lambda g: local(g, params[1]), photos)  # noqa: B023 (called at once)
        p, f1, iou = score(lambda i, c: local(photos[i].grey, c)[photos[i].paper], photos, params)  # noqa: B023
        print(f"  {name:58s} {lib:>13s} {f'{p:g}':>8s} {f1:6.3f} {iou:6.3f} {'—':>7s} {ms:7.1f}")
    reference(photos)


def light_rows(name: str, lib: str, fn: Callable[[U8], NDArray[Any]], photos: list[Scored]) -> None:
    """A light estimate's lines: ink = 1 − pixel ÷ light over a threshold (and, for the closing on
    the small copy, with hysteresis too), how uneven it leaves the paper, its CPU."""
    lights = [fn(s.grey) for s in photos]
    darks = [1 - s.grey / np.maximum(li, 1) for s, li in zip(photos, lights, strict=True)]
    on_paper = [d[s.paper] for s, d in zip(photos, darks, strict=True)]
    uneven = statistics.median(unevenness(li, s) for s, li in zip(photos, lights, strict=True))
    p, f1, iou = score(lambda i, t: on_paper[i] > t, photos, THRESHOLDS)
    print(f"  {name + ' → 1 − pixel ÷ light > T':58s} {lib:>13s} {f'T {p:g}':>8s} {f1:6.3f} {iou:6.3f} "
          f"{uneven:7.3f} {median_ms(fn, photos):7.1f}")
    if name == COPY and lib == "numpy+Pillow":
        p, f1, iou = score(lambda i, t: keep_touching(label(darks[i] > t)[0], darks[i] > 2 * t)[photos[i].paper],
                           photos, THRESHOLDS)
        print(f"  {'  … then hysteresis (the pieces holding some > 2T)':58s} {lib:>13s} {f'T {p:g}':>8s} "
              f"{f1:6.3f} {iou:6.3f}")


def reference(photos: list[Scored]) -> None:
    """The app's own pipeline, ``photo.photo_ink`` on the RGB photo: ink > 0."""
    from app.imaging.errors import InputError
    from app.imaging.photo import photo_ink
    scores, times = [], []
    for s in photos:
        t = time.process_time()
        try:
            mask = np.asarray(photo_ink(s.rgb)) > 0
        except InputError:
            mask = np.zeros(s.grey.shape, bool)
        times.append((time.process_time() - t) * 1000)
        scores.append(f1_iou(mask[s.paper], s))
    f1, iou = np.mean(scores, axis=0)
    print(f"  {'photo.photo_ink, the whole app pipeline (RGB), ink > 0':58s} {'numpy+Pillow':>13s} {'':>8s} "
          f"{f1:6.3f} {iou:6.3f} {'—':>7s} {statistics.median(times):7.1f}")


# ---- size ----------------------------------------------------------------------------------------

def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> set[str]:
    """The distributions requirements.lock pins: what the container already holds."""
    text = (ROOT / "requirements.lock").read_text()
    return {norm(m) for m in re.findall(r"^([A-Za-z0-9._-]+)==", text, re.M)}


def brings(dist: str, have: set[str]) -> list[str]:
    """``dist`` and the installed distributions it requires, recursively, that are not in ``have``."""
    found: list[str] = []
    todo = [norm(dist)]
    while todo:
        name = todo.pop()
        if name in have or name in found:
            continue
        with contextlib.suppress(metadata.PackageNotFoundError):
            requires = metadata.requires(name) or []
            found.append(name)
            todo += [norm(m.group(0)) for r in requires if "extra ==" not in r
                     if (m := re.match(r"[A-Za-z0-9._-]+", r))]
    return found


def installed_mb(name: str) -> float:
    files = metadata.distribution(name).files or []
    return sum(f.size or 0 for f in files if "__pycache__" not in f.parts) / 1e6


def wheel_mb(name: str, wheels: Path | None) -> float | None:
    if wheels is None:
        return None
    found = [w for w in wheels.glob("*.whl") if norm(w.name.split("-")[0]) == name]
    return found[0].stat().st_size / 1e6 if found else None


def sizes(wheels: Path | None) -> None:
    have = locked()
    print("\ninstalled size, MB (files as the container holds them, no __pycache__), with what each brings "
          "that requirements.lock does not already hold" + (f"; wheels from {wheels}" if wheels else ""))
    for lib, dist in DISTRIBUTIONS.items():
        if lib not in LIBRARIES:
            print(f"  {lib:13s} not installed: pip install {dist}  (in a throwaway venv)")
            continue
        names = brings(dist, have)
        parts = [(n, metadata.version(n), installed_mb(n), wheel_mb(n, wheels)) for n in names]
        total, wheel = sum(p[2] for p in parts), sum(p[3] or 0 for p in parts)
        detail = ", ".join(f"{n} {v} {mb:.1f}" + (f" (wheel {w:.1f})" if w else "") for n, v, mb, w in parts)
        print(f"  {lib:13s} {total:7.1f} MB installed" + (f", {wheel:.1f} MB of wheels" if wheels else "")
              + f": {detail}")


# ---- main ----------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=["speed", "quality", "size"],
                        help="parts: speed quality size (default: all)")
    parser.add_argument("--sizes", nargs="*", default=["1000x750", "1600x1200", "4000x3000"],
                        help="photo sizes for the speed part, WxH (default: 1000x750, the size the app works on "
                        "once a 4000×3000 JPEG is decoded reduced, 1600x1200 4000x3000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per operation (default: %(default)s)")
    parser.add_argument("--budget", type=float, default=3.0,
                        help="seconds an operation may be expected to take, or it is not run (default: %(default)s)")
    parser.add_argument("--photos", type=int, default=50, help="photos for the quality part (default: %(default)s)")
    parser.add_argument("--sides", type=int, nargs=2, default=[600, 3000], metavar=("LEAST", "MOST"),
                        help="the quality photos' long side, as make_photos --sides (default: 600 3000)")
    parser.add_argument("--wheels", type=Path, help="a folder of the libraries' wheels (pip download), for their sizes")
    args = parser.parse_args()
    t0 = time.monotonic()
    LIBRARIES.update(loaded())
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    from scripts.harness.machine import cpu_name
    versions = ", ".join(f"{lib} {version(lib)}" if lib in LIBRARIES else f"{lib} not installed" for lib in LIBS)
    print(f"{cpu_name()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; tree {commit}; {versions}; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '(unset)')}")
    if missing := [DISTRIBUTIONS[lib] for lib in DISTRIBUTIONS if lib not in LIBRARIES]:
        print(f"to compare them too, in a throwaway venv: pip install {' '.join(missing)} (this script's docstring)")
    if "speed" in args.only:
        for s in args.sizes:
            w, h = (int(v) for v in s.lower().replace("×", "x").split("x"))
            speed((w, h), args.repeats, args.budget)
    if "quality" in args.only:
        quality(args.photos, (args.sides[0], args.sides[1]))
    if "size" in args.only:
        sizes(args.wheels)
    print(f"\n{time.monotonic() - t0:.0f} s in all; load average {os.getloadavg()[0]:.2f} at the end")


def version(lib: str) -> str:
    if lib == "numpy+Pillow":
        return f"{np.__version__}+{metadata.version('pillow')}"
    return metadata.version(DISTRIBUTIONS[lib])


if __name__ == "__main__":
    main()
