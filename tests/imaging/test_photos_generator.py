"""The photo-like test set's generator (scripts/datasets/make_photos.py): the same seed writes the
same files, labels.csv says what each file holds, EXIF-rotated files come out upright once
transposed, and sizes stay within their bounds. A handful of small photos (600–720 px)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageOps

from model.mnist import read_idx
from scripts.datasets.make_photos import (
    KINDS,
    NONDIGIT_SHARE,
    ORIENTATION,
    draw_conditions,
    fit_pen,
    font_files,
    make_set,
    pieces,
    save_photo,
)
from scripts.evaluation.score_photos import CLEAN_MARGIN, clean_writing
from tests.paths import DATA

SIDES = (600, 720)
Mnist = tuple[NDArray[np.float32], NDArray[np.uint8]]
Written = tuple[Path, list[dict[str, str]]]


@pytest.fixture(scope="module")
def mnist() -> Mnist:
    X = read_idx(DATA / "t10k-sample-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) * np.float32(1 / 255)
    return X, read_idx(DATA / "t10k-sample-labels-idx1-ubyte.gz")


@pytest.fixture(scope="module", params=KINDS)
def written(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, mnist: Mnist) -> Written:
    out = tmp_path_factory.mktemp(request.param)
    return out, make_set(request.param, 3, 0, out, *mnist, sides=SIDES)


def test_the_same_seed_writes_the_same_files(written: Written, mnist: Mnist, tmp_path: Path) -> None:
    out, rows = written
    kind = rows[0]["kind"]
    again = make_set(kind, 2, 0, tmp_path / "again", *mnist, sides=SIDES)  # fewer: photo n does not depend on count
    assert again == rows[:2]
    for row in again:
        assert (tmp_path / "again" / row["file"]).read_bytes() == (out / row["file"]).read_bytes()
    other = make_set(kind, 1, 1, tmp_path / "other", *mnist, sides=SIDES)
    assert [(tmp_path / "other" / r["file"]).read_bytes() for r in other] != [
        (out / r["file"]).read_bytes() for r in rows[:1]]


def test_labels_csv_describes_each_file(written: Written) -> None:
    out, rows = written
    with open(out / "labels.csv", newline="") as f:
        assert list(csv.DictReader(f)) == rows
    for row in rows:
        path = out / row["file"]
        assert int(row["bytes"]) == path.stat().st_size
        with Image.open(path) as img:
            assert img.format == "JPEG"
            assert img.mode == row["mode"]
            assert img.getexif().get(ORIENTATION, 0) == int(row["exif"])
            upright = ImageOps.exif_transpose(img)
        assert upright.size == (int(row["width"]), int(row["height"]))
        label = row["label"]
        if row["kind"] == "digits":
            assert label in "0123456789" and len(label) == 1
        elif row["kind"] == "numbers":
            assert label.isdigit() and 2 <= len(label) <= 6
        else:
            assert label.split(" ")[0] in NONDIGIT_SHARE


def test_sizes_stay_within_their_bounds(written: Written) -> None:
    _, rows = written
    for row in rows:
        W, H = int(row["width"]), int(row["height"])
        assert SIDES[0] * 0.99 <= max(W, H) <= SIDES[1]
        if row["kind"] != "nondigits":
            assert 60 <= int(row["digit_height"]) <= min(600, 0.8 * H)


@pytest.mark.parametrize("kind", KINDS)
def test_drawn_conditions_stay_within_their_bounds(kind: str) -> None:
    for n in range(300):
        cond = draw_conditions(kind, np.random.default_rng([5, n]))
        assert 599 <= max(cond.width, cond.height) <= 3000
        assert 80 <= cond.digit_height <= 600
        assert 2 <= cond.noise <= 20 or cond.lighting == "scan"
        assert 40 <= cond.jpeg <= 95
        assert abs(cond.rotation) <= 8
        assert cond.exif in (0, 1, 3, 6, 8)
    big = draw_conditions(kind, np.random.default_rng(0), large=True)
    assert sorted((big.width, big.height)) == [3000, 4000]


def test_thinning_to_the_pen_keeps_a_thin_digit_beside_a_thick_one() -> None:
    """A thick 0 and a thin 1 side by side, thinned to a pen thinner than their mean stroke: the 1
    must not be wiped out (it once was, as a number's 1 thinner than its other digits)."""
    img = Image.new("L", (120, 70), 0)
    draw = ImageDraw.Draw(img)
    draw.ellipse((5, 5, 65, 65), outline=255, width=14)
    draw.line((95, 8, 95, 62), fill=255, width=3)
    cov = np.asarray(img, np.float32) / np.float32(255)
    assert pieces(cov) == 2
    thinned = fit_pen(cov, 4.0)
    assert pieces(thinned) == 2
    assert thinned[:, 85:].sum() > 0.3 * cov[:, 85:].sum()  # the 1 keeps a good part of its ink
    assert thinned[:, :75].sum() < 0.9 * cov[:, :75].sum()  # while the 0 was thinned


def asymmetric() -> Image.Image:
    """A landscape image whose every turn and flip looks different: a dark block top left."""
    img = Image.new("RGB", (320, 200), (240, 240, 240))
    ImageDraw.Draw(img).rectangle((10, 10, 90, 60), fill=(20, 20, 120))
    return img


@pytest.mark.parametrize("orientation", [0, 1, 3, 6, 8])
def test_exif_rotated_files_come_out_upright_once_transposed(orientation: int, tmp_path: Path) -> None:
    img = asymmetric()
    path = tmp_path / "photo.jpg"
    save_photo(img, path, 95, orientation)
    with Image.open(path) as stored:
        raw = stored.convert("RGB")
        upright = ImageOps.exif_transpose(stored).convert("RGB")
    expected = np.asarray(img, np.float32)
    assert np.abs(np.asarray(upright, np.float32) - expected).mean() < 3
    if orientation in (6, 8):
        assert raw.size == (200, 320)  # stored turned a quarter: upright only to a reader that honours EXIF
    elif orientation == 3:
        assert np.abs(np.asarray(raw, np.float32) - expected).mean() > 20
    else:
        assert np.abs(np.asarray(raw, np.float32) - expected).mean() < 3


@pytest.mark.parametrize("kind", ["digits", "numbers"])
def test_the_clean_writing_is_each_photos_own(kind: str, mnist: Mnist, tmp_path: Path) -> None:
    """score_photos --clean draws each photo's writing again from the set's seed: the same label,
    the writing as tall as labels.csv says (its coverage's height), black on white; another seed
    is refused."""
    rows = make_set(kind, 3, 0, tmp_path, *mnist, sides=SIDES)
    pngs = clean_writing(rows, 0, *mnist, sides=SIDES)
    for row, png in zip(rows, pngs, strict=True):
        with Image.open(io.BytesIO(png)) as img:
            a = np.asarray(img.convert("L"))
        assert a.max() == 255 and a.min() < 64, row["file"]  # black ink on white
        assert a.shape[0] == int(row["digit_height"]) + 2 * CLEAN_MARGIN, (row["file"], a.shape)
    with pytest.raises(SystemExit, match="another seed"):
        clean_writing(rows, 1, *mnist, sides=SIDES)


def test_the_fonts_are_listed_the_same_wherever_the_repository_is(tmp_path: Path) -> None:
    """A seed draws the same font from a checkout in /tmp as from one in /work: the folders keep
    their order, whatever their paths sort as."""
    for folder, names in (("z-system", ["b.ttf", "a.otf"]), ("a-repository", ["c.ttf", "Math.ttf", "d.txt"])):
        (tmp_path / folder).mkdir()
        for name in names:
            (tmp_path / folder / name).write_bytes(b"")
    listed = font_files([str(tmp_path / "z-system"), str(tmp_path / "a-repository")])
    assert [Path(f).relative_to(tmp_path).as_posix() for f in listed] == ["z-system/a.otf", "z-system/b.ttf",
                                                                            "a-repository/c.ttf"]
