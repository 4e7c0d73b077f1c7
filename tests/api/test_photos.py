"""Photos through the API, on the shipped weights: the ``source`` hint (in the JSON bodies, each
batch item and ``?source=`` on the uploads) and the ``box`` of what was read, in the upright photo's
full-resolution pixels whatever its EXIF orientation and however reduced it was decoded.

The photos are made at test time (``tests.photos``: seeded, the digits' boxes known exactly)."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.api.answers import read_image
from app.imaging.budget import Work
from app.imaging.decode import ImageLimits, decode_image
from app.imaging.photo import looks_like_photo
from app.imaging.preprocess import prepare_image
from app.main import create_app
from app.settings import Settings
from tests.drawing import drawing
from tests.paths import SHIPPED
from tests.photos import overlap, photo

ALLOWED = "Input should be 'auto', 'drawing' or 'photo'"


@pytest.fixture(scope="module")
def shipped() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(weights=SHIPPED))) as c:
        yield c


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def upload(client: TestClient, path: str, data: bytes, query: str = "") -> Any:
    r = client.post(f"{path}?preview=false{query}", files={"file": ("photo.jpg", data, "image/jpeg")})
    assert r.status_code == 200, r.text
    return r.json()


# ----- the hint ---------------------------------------------------------------------------------

def test_a_drawing_read_as_a_photo_still_reads(shipped: TestClient) -> None:
    """``photo`` forced on drawings (on white, and a canvas's ink on transparency): the same digit,
    found in the same place."""
    for style in ("dark_on_white", "transparent"):
        image = b64(drawing(style=style))
        auto = shipped.post("/api/predict?preview=false", json={"image": image}).json()
        forced = shipped.post("/api/predict?preview=false", json={"image": image, "source": "photo"}).json()
        assert forced["digit"] == auto["digit"] == 7 and forced["verdict"] == "digit", (style, forced)
        assert overlap(forced["box"], auto["box"]) > 0.9, (style, forced["box"], auto["box"])
        number = shipped.post("/api/read?preview=false", json={"image": image, "source": "photo"}).json()
        assert number["text"] == "7", number


def test_a_photo_read_as_a_drawing_gives_the_old_answer(shipped: TestClient) -> None:
    """A photo with the table's dark edge in the frame: taken for a photo (auto or said), the 7 is
    read where it is; ``drawing`` forced, the table counts as ink, as before photos were read."""
    data, (seven,) = photo("7", table=0.15)
    assert looks_like_photo(decode_image(data, ImageLimits()).convert("RGB"))
    for source in ("", "&source=auto", "&source=photo"):
        answer = upload(shipped, "/api/predict/file", data, source)
        assert answer["digit"] == 7 and overlap(answer["box"], seven) > 0.9, (source, answer)
    old = upload(shipped, "/api/predict/file", data, "&source=drawing")
    assert old["box"][0] == 0 and old["box"][2] > 0.5 * 900, old  # the table's edge and the 7 as one drawing
    body = {"image": b64(data), "source": "drawing"}
    assert shipped.post("/api/predict?preview=false", json=body).json() == old
    assert shipped.post("/api/read?preview=false", json=body).json()["text"] != "7"


def test_each_batch_item_takes_its_own_hint(shipped: TestClient) -> None:
    data, _ = photo("7", table=0.15)
    items = [{"image": b64(data), "source": "drawing"}, {"image": b64(data)}, {"image": b64(data), "source": "photo"}]
    r = shipped.post("/api/predict/batch?preview=false", json={"inputs": items})
    assert r.status_code == 200, r.text
    for item, result in zip(items, r.json()["results"], strict=True):
        alone = shipped.post("/api/predict?preview=false", json=item).json()
        assert result["box"] == alone["box"] and result["digit"] == alone["digit"], item.get("source")
    assert r.json()["results"][0]["box"] != r.json()["results"][1]["box"]


@pytest.mark.parametrize(("path", "body"), [
    ("/api/predict", {"image": "AAAA", "source": "scan"}),
    ("/api/read", {"image": "AAAA", "source": "Photo"}),
    ("/api/predict/batch", {"inputs": [{"pixels": [0.5] * 784}, {"image": "AAAA", "source": 1}]}),
])
def test_an_unknown_source_names_the_allowed_ones(shipped: TestClient, path: str, body: dict[str, Any]) -> None:
    r = shipped.post(path, json=body)
    assert r.status_code == 422 and r.json()["code"] == "invalid_request" and ALLOWED in r.json()["detail"], r.text


@pytest.mark.parametrize("path", ["/api/predict/file", "/api/read/file"])
def test_an_unknown_source_on_an_upload_is_refused(shipped: TestClient, path: str) -> None:
    r = shipped.post(f"{path}?source=camera", files={"file": ("digit.png", drawing(), "image/png")})
    assert r.status_code == 422 and r.json() == {"detail": f"?source: {ALLOWED}", "code": "invalid_request"}


def test_pixels_take_the_hint_and_ignore_it(shipped: TestClient) -> None:
    pixels = [0.0] * 400 + [1.0] * 20 + [0.0] * 364
    plain = shipped.post("/api/predict", json={"pixels": pixels}).json()
    assert shipped.post("/api/predict", json={"pixels": pixels, "source": "photo"}).json() == plain
    assert "box" not in plain


# ----- boxes ------------------------------------------------------------------------------------

@pytest.mark.parametrize("orientation", [6, 8])
def test_a_turned_photos_box_lies_over_its_digit_upright(shipped: TestClient, orientation: int) -> None:
    """Stored sideways (width and height swapped) with EXIF 6 or 8: the box is in the upright photo."""
    data, (seven,) = photo("7", orientation=orientation)
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.size == (675, 900)  # as stored: the upright photo is 900 × 675
    answer = upload(shipped, "/api/predict/file", data)
    assert answer["digit"] == 7 and overlap(answer["box"], seven) > 0.9, answer["box"]
    json_answer = shipped.post("/api/predict?preview=false", json={"image": b64(data)}).json()
    assert json_answer["box"] == answer["box"]


@pytest.mark.parametrize("orientation", [0, 6, 8])
def test_a_turned_numbers_boxes_lie_over_its_digits_upright(shipped: TestClient, orientation: int) -> None:
    data, boxes = photo("741", size=(1200, 700), height=0.35, orientation=orientation)
    number = upload(shipped, "/api/read/file", data)
    assert number["text"] == "741"
    for digit, box in zip(number["digits"], boxes, strict=True):
        assert overlap(digit["box"], box) > 0.85, (digit["box"], box)
    assert shipped.post("/api/read?preview=false", json={"image": b64(data)}).json()["digits"] == number["digits"]


def test_a_large_photos_box_is_in_its_full_resolution(shipped: TestClient) -> None:
    """3000 × 2250, stored turned (EXIF 6): decoded at a quarter of its pixels, or less; the box
    is scaled back to the photo's own pixels."""
    data, (seven,) = photo("7", size=(3000, 2250), orientation=6)
    assert decode_image(data, ImageLimits()).size[0] < 1500
    answer = upload(shipped, "/api/predict/file", data)
    assert answer["digit"] == 7 and overlap(answer["box"], seven) > 0.9, (answer["box"], seven)
    number = upload(shipped, "/api/read/file", data)
    assert overlap(number["digits"][0]["box"], seven) > 0.9, number["digits"][0]["box"]


def test_a_photo_is_read_at_up_to_one_and_a_half_megapixels() -> None:
    """A photo larger than ``WORK_PIXELS`` (1.5 megapixels) is decoded at the largest of 1/2, 1/4,
    1/8 of its side that fits: 3000 × 1700 at half (1.3 megapixels: a number's thin strokes
    kept), 1600 × 1200 and 4000 × 3000 at a half and a quarter; one that fits is decoded whole."""
    for size, read in [((3000, 1700), (1500, 850)), ((1600, 1200), (800, 600)), ((4000, 3000), (1000, 750)),
                       ((1400, 1000), (1400, 1000))]:
        data, _ = photo("7", size=size)
        assert decode_image(data, ImageLimits()).size == read, size


def test_reading_an_image_prepares_it_as_prepare_image_does() -> None:
    """The routes' ``read_image`` (which also finds the box) gives exactly ``prepare_image``'s input,
    for drawings and photos."""
    limits = ImageLimits()
    for data in (drawing(), drawing(style="transparent"), drawing(fmt="JPEG"), photo("7", table=0.15)[0],
                 photo("4", orientation=8)[0]):
        x, _ = read_image(data, limits, Work(limits.budget))
        assert np.array_equal(x, prepare_image(data, limits))


def test_a_full_batch_of_hinted_drawings_fits_the_bodys_limits(shipped: TestClient) -> None:
    """The hint adds a member to each input: a full batch of drawings as 28 rows of 28, each with
    its hint, is still within what a body may hold (``app.api.body``)."""
    rows = np.zeros((28, 28))
    rows[4:24, 13:16] = 1.0
    inputs = [{"pixels": rows.tolist(), "source": "drawing"}] * shipped.app.state.settings.max_batch  # type: ignore[attr-defined]
    r = shipped.post("/api/predict/batch?preview=false", json={"inputs": inputs})
    assert r.status_code == 200 and len(r.json()["results"]) == len(inputs), r.text[:200]
