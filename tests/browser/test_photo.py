"""Photos on the drawing page, in a real browser: a photo chosen with the Photo button (or from the
keyboard, or dropped on the pad from a laptop) is uploaded, shown upright in place of the pad with
the boxes of what was read over it, and answered as a drawing is; a file that is no image, or is
too large, is refused in words; Clear and a click on the photo bring the pad back.

The photos are made at test time by ``tests.photos`` (seeded; each digit's box in the upright photo
known exactly), stored sideways with an EXIF orientation, so that the page must show them as the
browser turns them. Playwright drives Debian's Chromium against a real digitpad-serve on
127.0.0.1 serving the shipped weights (tests/browser/test_browser.py says more)."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, FilePayload, Page, expect

from scripts.harness.server import serving
from tests.browser.test_browser import serious_violations
from tests.browser.test_page import LAPTOP, PHONE, new_context, open_page
from tests.paths import SHIPPED
from tests.photos import Box, photo

pytestmark = pytest.mark.browser  # Debian's Chromium

SEVEN = photo("7", orientation=6)  # stored 675 × 900, upright 900 × 675
NUMBER = photo("741", size=(1200, 700), height=0.35, orientation=8)
NEAR = 0.03  # of the photo's side: how far a box on show may be from where the digit is


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert SHIPPED.exists(), "these tests read digits: they need the shipped weights"
    with serving(tmp_path_factory.mktemp("log"), SHIPPED) as s:
        yield s.url


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    """The page on a laptop in light mode; no script error on it."""
    ctx = new_context(browser, LAPTOP, "light")
    try:
        page = open_page(ctx, server)
        yield page
        assert [e for e in page.errors if "Failed to load resource" not in e] == []  # type: ignore[attr-defined]
    finally:
        ctx.close()


def jpeg(data: bytes, name: str = "photo.jpg") -> FilePayload:
    return {"name": name, "mimeType": "image/jpeg", "buffer": data}


def check_boxes(page: Page, boxes: list[Box], size: tuple[int, int]) -> None:
    """The boxes on show lie over the digits' boxes in the upright photo (as fractions of it)."""
    shown = page.get_by_test_id("photo-boxes").locator(".box")
    expect(shown).to_have_count(len(boxes))
    frame = page.get_by_test_id("photo").bounding_box()
    assert frame is not None
    W, H = size
    for k, (x, y, w, h) in enumerate(boxes):
        got = shown.nth(k).bounding_box()
        assert got is not None
        fx, fy = (got["x"] - frame["x"]) / frame["width"], (got["y"] - frame["y"]) / frame["height"]
        fw, fh = got["width"] / frame["width"], got["height"] / frame["height"]
        want = (x / W, y / H, w / W, h / H)
        assert all(abs(a - b) < NEAR for a, b in zip((fx, fy, fw, fh), want, strict=True)), (k, (fx, fy, fw, fh), want)


def preview_has_ink(page: Page) -> bool:
    return bool(page.evaluate("""() => {
        const data = document.querySelector('[data-testid="preview"]').getContext('2d').getImageData(0, 0, 28, 28).data;
        return data.some((v, i) => i % 4 === 0 && v > 128); }"""))


def test_a_photo_is_read_in_digit_mode_then_the_pad_comes_back(page: Page) -> None:
    expect(page.get_by_test_id("photo-file")).to_be_hidden()  # a laptop's Photo opens its file chooser
    data, boxes = SEVEN
    page.get_by_test_id("photo-input").set_input_files(jpeg(data))
    expect(page.get_by_test_id("prediction")).to_have_text("7")
    expect(page.locator("#verdict")).to_have_text("That's a 7.")
    expect(page.get_by_test_id("pad")).to_be_hidden()
    expect(page.get_by_test_id("photo")).to_be_visible()
    check_boxes(page, boxes, (900, 675))
    expect(page.get_by_test_id("photo-boxes").locator(".box-label")).to_have_text(["7"])
    expect(page.get_by_test_id("prob-7")).to_have_class("top")
    assert preview_has_ink(page)
    page.get_by_test_id("agree").click()  # a photo's correction is its 28×28 preview, as a drawing's
    expect(page.get_by_test_id("feedback-status")).to_have_text("Thanks — saved as right.")

    page.get_by_test_id("mode-number").click()  # the photo stays, read as a number
    expect(page.get_by_test_id("number-text")).to_have_text("7")
    check_boxes(page, boxes, (900, 675))

    page.get_by_test_id("clear").click()
    expect(page.get_by_test_id("pad")).to_be_visible()
    expect(page.get_by_test_id("photo-view")).to_be_hidden()
    expect(page.locator("#verdict")).to_have_text("Waiting for your drawing")
    expect(page.get_by_test_id("clear")).to_be_disabled()


def test_a_photo_is_read_in_number_mode_on_a_phone(browser: Browser, server: str) -> None:
    """360 px wide, dark, a touch screen: a photo from the phone's pictures (File), the number, each
    digit boxed and labelled over the photo, the picked digit's box marked; nothing scrolls
    sideways; axe finds no serious issue. A click on the photo brings the pad back."""
    ctx = new_context(browser, {**PHONE, "viewport": {"width": 360, "height": 740}}, "dark", bypass_csp=True)
    try:
        page = open_page(ctx, server + "/?mode=number")
        expect(page.get_by_test_id("photo-file")).to_be_visible()  # beside the camera: the phone's own pictures
        data, boxes = NUMBER
        page.get_by_test_id("photo-file").set_input_files(jpeg(data))
        expect(page.get_by_test_id("number-text")).to_have_text("741")
        check_boxes(page, boxes, (1200, 700))
        labels = page.get_by_test_id("photo-boxes").locator(".box-label")
        expect(labels).to_have_text(["7", "4", "1"])
        page.get_by_test_id("digit-1").click()
        expect(page.get_by_test_id("photo-boxes").locator(".box").nth(1)).to_have_class("box picked")
        expect(page.get_by_test_id("prob-4")).to_have_class("top")
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        assert serious_violations(page) == []
        page.get_by_test_id("photo").click()
        expect(page.get_by_test_id("pad")).to_be_visible()
        expect(page.get_by_test_id("number-text")).to_have_text("")
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        ctx.close()


def test_a_photo_dropped_on_the_pad_is_read(page: Page) -> None:
    data, boxes = SEVEN
    transfer = page.evaluate_handle("""(b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const t = new DataTransfer();
        t.items.add(new File([bytes], "photo.jpg", { type: "image/jpeg" }));
        return t; }""", base64.b64encode(data).decode())
    pad = page.get_by_test_id("pad")
    pad.dispatch_event("dragenter", {"dataTransfer": transfer})
    expect(page.get_by_test_id("drop-hint")).to_be_visible()
    pad.dispatch_event("dragover", {"dataTransfer": transfer})
    pad.dispatch_event("drop", {"dataTransfer": transfer})
    expect(page.get_by_test_id("drop-hint")).to_be_hidden()
    expect(page.get_by_test_id("prediction")).to_have_text("7")
    check_boxes(page, boxes, (900, 675))


def test_the_photo_button_works_from_the_keyboard(page: Page) -> None:
    # Playwright turns on its catching of file choosers when the first listener is added, without
    # waiting for it: added here, it is on by the time Enter is pressed (else the chooser may open
    # uncaught, as a real dialog that headless Chromium does not show).
    page.on("filechooser", lambda chooser: None)
    page.get_by_test_id("photo-input").focus()
    page.keyboard.press("Shift+Tab")  # from the tool before it, as a keyboard user comes
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.testid") == "photo-input"
    with page.expect_file_chooser() as chosen:
        page.keyboard.press("Enter")
    chosen.value.set_files(jpeg(SEVEN[0]))
    expect(page.get_by_test_id("prediction")).to_have_text("7")
    page.keyboard.press("Escape")  # clears, as it clears a drawing
    expect(page.get_by_test_id("pad")).to_be_visible()


def test_a_file_that_cannot_be_read_is_refused_in_words(page: Page) -> None:
    page.get_by_test_id("photo-input").set_input_files(jpeg(b"a shopping list, not a photo", "notes.jpg"))
    expect(page.locator("#verdict")).to_have_text("That could not be read.")
    expect(page.locator("#status")).to_have_text("This is not an image that can be read; send a PNG, JPEG, WebP "
                                                 "or GIF image.")
    too_large = b"\xff\xd8\xff\xe0" + os.urandom(17 << 20)  # over the uploads' 16 MiB
    page.get_by_test_id("photo-input").set_input_files(jpeg(too_large, "huge.jpg"))
    expect(page.locator("#status")).to_have_text("The request body is larger than 16 MiB.")
    expect(page.get_by_test_id("connection")).to_be_hidden()  # a refusal, not a lost server
    expect(page.get_by_test_id("prediction")).to_have_text("")
