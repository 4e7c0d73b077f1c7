"""The drawing page in a real browser: Playwright driving Debian's Chromium.

Needs ``/usr/bin/chromium`` (``apt-get install chromium``) and the ``playwright``
package; Playwright's own browser download is never used. Without Chromium these
tests fail, they do not skip. The server is a real digitpad-serve on 127.0.0.1 serving
the shipped weights (a tiny untrained network if they are missing, in which case
only the check of *which* digit was read is skipped). Screenshots go to artifacts/.
"""

from __future__ import annotations

import io
import json
import math
import re
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect

from app.imaging.decode import payload_bytes
from app.imaging.preprocess import prepare_image
from scripts.harness.server import serving
from tests.app_fixtures import app_weights
from tests.paths import ROOT

pytestmark = pytest.mark.browser  # Debian's Chromium

SHIPPED = ROOT / "weights" / "digitpad.npz"
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
# No outside network on this machine: keep Chromium from trying.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 30_000  # a bound on a hang: each wait ends as soon as the page is there

Path_ = list[tuple[float, float]]  # points in [0, 1] × [0, 1] of the pad
ZERO: Path_ = [(0.5 + 0.2 * math.sin(t), 0.5 - 0.3 * math.cos(t)) for t in
               (2 * math.pi * k / 32 for k in range(33))]
HONEST: dict[str, list[Path_]] = {  # the cases: each is drawn and must be answered as named
    "A": [[(0.25, 0.82), (0.5, 0.18), (0.75, 0.82)], [(0.35, 0.58), (0.65, 0.58)]],
    "1 with a long flag and a foot": [[(0.3, 0.45), (0.56, 0.18), (0.56, 0.82)], [(0.4, 0.82), (0.72, 0.82)]],
    "7 with a crossbar": [[(0.28, 0.2), (0.72, 0.2), (0.45, 0.82)], [(0.4, 0.5), (0.68, 0.5)]],
}
DIGITS: dict[str, list[Path_]] = {
    "1": [[(0.52, 0.18), (0.5, 0.5), (0.48, 0.82)]],
    "7": [[(0.28, 0.22), (0.72, 0.22)], [(0.72, 0.22), (0.56, 0.5), (0.44, 0.82)]],
    "0": [ZERO],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    weights = SHIPPED if SHIPPED.exists() else app_weights(tmp_path_factory.mktemp("w") / "tiny.npz")
    with serving(tmp_path_factory.mktemp("log"), weights) as s:  # digitpad-serve, as run.sh starts it
        yield s.url



@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1100, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext, server: str) -> Page:
    page = context.new_page()
    page.goto(server)
    expect(page.get_by_test_id("pad")).to_be_visible()
    return page


def draw(page: Page, strokes: list[Path_], steps: int = 6) -> None:
    """Draw strokes with the mouse on the pad."""
    box = page.get_by_test_id("pad").bounding_box()
    assert box is not None
    for stroke in strokes:
        x0, y0 = stroke[0]
        page.mouse.move(box["x"] + x0 * box["width"], box["y"] + y0 * box["height"])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=steps)
        page.mouse.up()


def no_percentages(page: Page) -> bool:
    """No bar shows a percentage (nothing has been read)."""
    return all(page.get_by_test_id(f"prob-{d}").inner_text().strip() == "" for d in range(10))


def percentages(page: Page) -> list[int]:
    texts = [page.get_by_test_id(f"prob-{d}").inner_text().strip() for d in range(10)]
    assert all(re.fullmatch(r"\d{1,3}%", t) for t in texts), texts
    return [int(t[:-1]) for t in texts]


class Requests:
    """The page's requests to a path: how many have started, how many are still open."""

    def __init__(self, page: Page, path: str) -> None:
        self.page, self.started, self.open = page, 0, 0

        def start(request: Any) -> None:
            if path in request.url:
                self.started += 1
                self.open += 1

        def end(request: Any) -> None:
            if path in request.url:
                self.open -= 1

        page.on("request", start)
        page.on("requestfinished", end)
        page.on("requestfailed", end)

    def wait_quiet(self, ms: int = 400, within_s: float = 30) -> None:
        """Until none is open and none has started for ``ms`` (the answers are all in and handled)."""
        deadline = time.monotonic() + within_s
        while True:
            started = self.started
            self.page.wait_for_timeout(ms)
            if self.open == 0 and self.started == started:
                return
            assert time.monotonic() < deadline, f"{self.open} requests still open after {within_s} s"


def ink_at(page: Page, points: Path_) -> list[int]:
    """Alpha of the pad's pixels at these points (0 = blank)."""
    return page.evaluate(
        """(points) => {
            const c = document.querySelector('[data-testid="pad"]');
            const g = c.getContext('2d');
            return points.map(([x, y]) => g.getImageData(Math.floor(x * c.width), Math.floor(y * c.height),
                                                         1, 1).data[3]);
        }""", points)


def test_empty_page_invites(page: Page) -> None:
    expect(page.get_by_text("Draw a digit here")).to_be_visible()
    expect(page.get_by_test_id("prediction")).to_have_text("")
    assert no_percentages(page)
    expect(page.get_by_test_id("undo")).to_be_disabled()
    expect(page.get_by_test_id("clear")).to_be_disabled()
    expect(page.locator("#model-info")).to_contain_text("Model: ")


@pytest.mark.parametrize("digit", ["1", "7", "0"])
def test_draw_digit_with_mouse(page: Page, digit: str) -> None:
    draw(page, DIGITS[digit])
    prediction = page.get_by_test_id("prediction")
    expect(prediction).to_have_text(re.compile(r"^\d$"))
    expect(page.locator("#announce")).to_contain_text(re.compile(r"That's an? \d\.|Not sure"))
    predicted = int(prediction.inner_text())
    pct = percentages(page)
    assert abs(sum(pct) - 100) <= 5 and pct[predicted] == max(pct) and pct[predicted] > 0
    expect(page.get_by_test_id(f"prob-{predicted}")).to_have_class(re.compile(r"\btop\b"))
    assert page.locator(".bars li.top").count() == 1
    lit = page.evaluate("""() => {
        const d = document.querySelector('[data-testid="preview"]').getContext('2d').getImageData(0, 0, 28, 28).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")
    assert 20 < lit < 400  # the 28×28 preview shows a digit-sized patch of ink
    expect(page.get_by_text("Draw a digit here")).to_be_hidden()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"browser-{digit}.png")
    if not SHIPPED.exists():
        pytest.skip("shipped weights missing: the page works, but which digit it reads is not checked")
    assert prediction.inner_text() == digit


@pytest.mark.parametrize(("drawn", "expected"), [("A", None), ("1 with a long flag and a foot", "1"),
                                                  ("7 with a crossbar", "7")])
def test_honest_answers(page: Page, drawn: str, expected: str | None) -> None:
    if not SHIPPED.exists():
        pytest.skip("shipped weights missing")
    draw(page, HONEST[drawn])
    verdict = page.locator("#verdict")
    if expected is None:
        expect(verdict).to_have_text("That doesn't look like a digit.")
        expect(page.get_by_test_id("prediction")).to_have_text("")
        expect(page.locator("#bars")).to_have_class(re.compile(r"\bdimmed\b"))
    else:
        expect(page.get_by_test_id("prediction")).to_have_text(expected)
        expect(verdict).to_contain_text(expected)


def sent_images(context: BrowserContext, server: str, strokes: list[Path_]) -> tuple[list[bytes], str]:
    """The images a fresh page sends to /api/predict while ``strokes`` are drawn, and the digit shown."""
    page = context.new_page()
    bodies: list[bytes] = []

    def sent(request: Any) -> None:
        if request.url.endswith("/api/predict"):
            bodies.append(payload_bytes(json.loads(request.post_data)["image"]))

    page.on("request", sent)
    quiet = Requests(page, "/api/predict")
    page.goto(server)
    draw(page, strokes)
    expect(page.get_by_test_id("prediction")).to_have_text(re.compile(r"^\d$"))
    quiet.wait_quiet()
    return bodies, page.get_by_test_id("prediction").inner_text()


def test_the_page_sends_its_ink_on_a_palette(browser: Browser, server: str) -> None:
    """The page sends a palette PNG (one byte a pixel: black, alpha = coverage), and it reads as the
    canvas's own RGBA PNG of the same drawing does (sent where the browser lacks CompressionStream)."""
    contexts = [browser.new_context(viewport={"width": 1100, "height": 900}) for _ in range(2)]
    contexts[1].add_init_script("delete window.CompressionStream;")
    try:
        sent, shown = sent_images(contexts[0], server, DIGITS["7"])
        canvas, shown_canvas = sent_images(contexts[1], server, DIGITS["7"])
    finally:
        for ctx in contexts:
            ctx.close()
    palette, rgba = sent[-1], canvas[-1]
    with Image.open(io.BytesIO(palette)) as img, Image.open(io.BytesIO(rgba)) as own:
        assert (img.format, img.mode, own.mode) == ("PNG", "P", "RGBA")
        assert len(palette) < len(rgba)
        assert np.array_equal(np.asarray(img.convert("RGBA")), np.asarray(own))  # the same picture, exactly
    assert np.array_equal(prepare_image(palette), prepare_image(rgba))
    assert shown == shown_canvas
    if SHIPPED.exists():
        assert shown == "7"


def test_a_tap_claims_no_digit(page: Page) -> None:
    box = page.get_by_test_id("pad").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 0.5 * box["width"], box["y"] + 0.5 * box["height"])
    expect(page.locator("#verdict")).to_contain_text(re.compile(r"bigger|doesn't look like a digit"))
    expect(page.get_by_test_id("prediction")).to_have_text("")


def test_undo_removes_last_stroke(page: Page) -> None:
    top, stem = DIGITS["7"]
    draw(page, [top, stem])
    expect(page.get_by_test_id("prediction")).to_have_text(re.compile(r"^\d$"))
    on_top, on_stem = [(0.5, 0.22)], [(0.5, 0.6)]
    assert ink_at(page, on_top + on_stem) == [255, 255]
    page.get_by_test_id("undo").click()
    assert ink_at(page, on_top + on_stem) == [255, 0]
    draw(page, [stem])
    assert ink_at(page, on_stem) == [255]
    page.keyboard.press("Control+z")
    assert ink_at(page, on_top + on_stem) == [255, 0]
    # the answer is the one for what is left: a lone bar, which is no digit
    expect(page.locator("#verdict")).to_have_text("That doesn't look like a digit.")


@pytest.mark.parametrize("how", ["button", "escape"])
def test_clear_resets(page: Page, how: str) -> None:
    predicts = Requests(page, "/api/predict")
    draw(page, DIGITS["0"])
    expect(page.get_by_test_id("prediction")).to_have_text(re.compile(r"^\d$"))
    if how == "button":
        page.get_by_test_id("clear").click()
    else:
        page.keyboard.press("Escape")
    expect(page.get_by_test_id("prediction")).to_have_text("")
    expect(page.get_by_text("Draw a digit here")).to_be_visible()
    assert no_percentages(page)
    assert max(ink_at(page, [(x / 10, y / 10) for x in range(1, 10) for y in range(1, 10)])) == 0
    expect(page.get_by_test_id("undo")).to_be_disabled()
    predicts.wait_quiet()  # an answer still in flight must not bring a guess back
    expect(page.get_by_test_id("prediction")).to_have_text("")


def test_live_prediction_one_request_at_a_time(context: BrowserContext, server: str) -> None:
    context.add_init_script("""
        window.__fetches = {started: 0, inFlight: 0, maxInFlight: 0};
        const realFetch = window.fetch;
        window.fetch = async (...args) => {
            const f = window.__fetches;
            if (String(args[0]).includes('/api/predict')) {
                f.started++; f.inFlight++; f.maxInFlight = Math.max(f.maxInFlight, f.inFlight);
                await new Promise(r => setTimeout(r, 150));  // a slow server
                try { return await realFetch(...args); } finally { f.inFlight--; }
            }
            return realFetch(...args);
        };""")
    page = context.new_page()
    page.goto(server)
    box = page.get_by_test_id("pad").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 0.3 * box["width"], box["y"] + 0.2 * box["height"])
    page.mouse.down()
    for k in range(1, 31):  # a slow stroke, about 1.5 s long
        page.mouse.move(box["x"] + (0.3 + 0.4 * k / 30) * box["width"], box["y"] + 0.2 * box["height"])
        page.wait_for_timeout(50)
    # answered before the pen is lifted (a lone bar: no digit, and the page says so)
    expect(page.locator("#verdict")).to_have_text("That doesn't look like a digit.")
    page.mouse.up()
    page.wait_for_timeout(600)
    stats = page.evaluate("window.__fetches")
    assert stats["maxInFlight"] == 1 and 2 <= stats["started"] < 30


def test_server_unreachable_message(page: Page) -> None:
    page.route("**/api/predict", lambda route: route.abort())
    draw(page, DIGITS["1"])
    expect(page.get_by_test_id("connection")).to_contain_text("Reconnecting")
    expect(page.locator("#verdict")).to_have_text("Not read yet")


def test_dark_mode(page: Page) -> None:
    light = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.emulate_media(color_scheme="dark")
    dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert light != dark
    draw(page, DIGITS["1"])
    assert ink_at(page, [(0.5, 0.5)]) == [255]


def test_touch_drawing_on_a_phone_does_not_scroll(browser: Browser, server: str) -> None:
    ctx = browser.new_context(viewport={"width": 390, "height": 664}, device_scale_factor=3,
                              is_mobile=True, has_touch=True)
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        page = ctx.new_page()
        page.goto(server)
        pad = page.get_by_test_id("pad")
        box = pad.bounding_box()
        assert box is not None and box["width"] <= 390
        crisp = page.evaluate("(() => { const c = document.querySelector('[data-testid=\"pad\"]');"
                              " return [c.width, c.getBoundingClientRect().width]; })()")
        assert crisp[0] == round(3 * crisp[1])  # one canvas pixel per device pixel
        assert page.evaluate("document.documentElement.scrollHeight > innerHeight")
        cdp = ctx.new_cdp_session(page)

        def swipe(points: list[tuple[float, float]]) -> None:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [
                {"x": points[0][0], "y": points[0][1]}]})
            for x, y in points[1:]:
                cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
            cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})

        def settled() -> float:
            """scrollY once it has stopped moving (a swipe's fling goes on after the touch ends;
            on a loaded machine, for longer, and in fits): the same over 1 s, within 30 s."""
            seen: list[float] = []
            for _ in range(150):
                seen.append(page.evaluate("scrollY"))
                if len(seen) >= 6 and len(set(seen[-6:])) == 1:
                    return float(seen[-1])
                page.wait_for_timeout(200)
            raise AssertionError(f"the page kept scrolling: scrollY {seen[-6:]}")

        # Control: the same gesture beside the pad scrolls the page, so the check below means something.
        swipe([(6, 560 - 20 * k) for k in range(16)])
        assert settled() > 0
        page.evaluate("scrollTo(0, 0)")
        assert settled() == 0  # the control's fling is over
        box = pad.bounding_box()
        assert box is not None
        x, y, w, h = box["x"], box["y"], box["width"], box["height"]
        swipe([(x + w * (0.52 - 0.04 * t), y + h * (0.15 + 0.7 * t)) for t in (k / 15 for k in range(16))])
        page.wait_for_timeout(300)
        assert settled() == 0
        expect(page.get_by_test_id("prediction")).to_have_text(re.compile(r"^\d$"))
        assert ink_at(page, [(0.5, 0.5)]) == [255]
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "browser-phone.png", full_page=True)
    finally:
        ctx.close()


# ----- number mode ------------------------------------------------------------------------------

def unit(path: Path_, left: float, top: float = 0.2, width: float = 0.12, height: float = 0.6) -> Path_:
    """A digit's path from its unit box into a box of the pad."""
    return [(left + x * width, top + y * height) for x, y in path]


NUMBER_DIGITS: dict[str, list[Path_]] = {  # unit boxes, y down
    "2": [[(0.1, 0.25), (0.3, 0.03), (0.7, 0.03), (0.9, 0.3), (0.75, 0.55), (0.1, 1.0), (0.95, 1.0)]],
    "0": [[(0.5 + 0.42 * math.sin(t), 0.5 - 0.5 * math.cos(t)) for t in (2 * math.pi * k / 32 for k in range(33))]],
    "6": [[(0.8, 0.0), (0.45, 0.2), (0.18, 0.55), (0.2, 0.88), (0.5, 1.0), (0.8, 0.88), (0.85, 0.62),
           (0.5, 0.5), (0.2, 0.65)]],
}


def write_number(page: Page, text: str) -> None:
    strokes = []
    for k, d in enumerate(text):
        strokes += [unit(s, 0.12 + 0.2 * k) for s in NUMBER_DIGITS[d]]
    draw(page, strokes)


def test_number_mode_reads_2026_and_shows_each_digit(page: Page, server: str) -> None:
    page.get_by_test_id("mode-number").click()
    assert "mode=number" in page.url
    expect(page.get_by_text("Write a number here")).to_be_visible()
    box = page.get_by_test_id("pad").bounding_box()
    assert box is not None and 2.5 < box["width"] / box["height"] < 3.5  # a wide pad on a laptop
    write_number(page, "2026")
    expect(page.get_by_test_id("number-text")).to_have_text(re.compile(r"^[\d?]{4}$"))
    expect(page.locator("#verdict")).to_contain_text("That's ")
    for k in range(4):
        expect(page.get_by_test_id(f"digit-{k}")).to_be_visible()
    expect(page.get_by_test_id("digit-4")).to_have_count(0)
    assert page.locator("#boxes .box").count() == 4  # each digit boxed over the pad, left to right
    lefts = [float(page.locator("#boxes .box").nth(k).evaluate("e => parseFloat(e.style.left)")) for k in range(4)]
    assert lefts == sorted(lefts) and lefts[0] < 25 < 75 < lefts[3] + 10
    page.get_by_test_id("digit-1").click()  # the "0": its own bars and preview
    expect(page.get_by_test_id("digit-1")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#boxes .box.picked")).to_have_count(1)
    lit = page.evaluate("""() => {
        const d = document.querySelector('[data-testid="preview"]').getContext('2d').getImageData(0, 0, 28, 28).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")
    assert 20 < lit < 400
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "browser-number.png")
    if not SHIPPED.exists():
        pytest.skip("shipped weights missing: number mode works, but which number it reads is not checked")
    expect(page.get_by_test_id("number-text")).to_have_text("2026")
    expect(page.locator("#verdict")).to_have_text("That's 2026")
    expect(page.get_by_test_id("prob-0")).to_have_class(re.compile(r"\btop\b"))
    page.get_by_test_id("digit-3").click()
    expect(page.get_by_test_id("prob-6")).to_have_class(re.compile(r"\btop\b"))


def test_number_mode_is_kept_in_the_url_and_undo_carries_over(context: BrowserContext, server: str) -> None:
    page = context.new_page()
    page.goto(server + "/?mode=number")
    expect(page.get_by_test_id("mode-number")).to_have_attribute("aria-selected", "true")
    write_number(page, "20")
    expect(page.get_by_test_id("number-text")).to_have_text(re.compile(r"^[\d?]{2}$"))
    page.keyboard.press("Control+z")  # the 0 goes: one digit left
    expect(page.get_by_test_id("number-text")).to_have_text(re.compile(r"^[\d?]$"))
    expect(page.get_by_test_id("digit-1")).to_have_count(0)
    page.get_by_test_id("mode-digit").click()  # back to one digit: a fresh square pad
    assert "mode=" not in page.url
    expect(page.get_by_text("Draw a digit here")).to_be_visible()
    expect(page.get_by_test_id("number-text")).to_be_hidden()
    box = page.get_by_test_id("pad").bounding_box()
    assert box is not None and abs(box["width"] - box["height"]) < 2


# ----- corrections ------------------------------------------------------------------------------

def test_correct_an_answer_and_the_row_is_saved(page: Page) -> None:
    import os

    import numpy as np

    from app.storage import feedback as store
    from app.storage.database import connect

    engine = connect(os.environ["DIGITPAD_DATABASE_URL"])  # the server's database (tests/conftest.py)
    try:
        before = store.count(engine)
        expect(page.locator("#correct")).to_be_hidden()  # nothing to correct yet
        draw(page, DIGITS["7"])
        prediction = page.get_by_test_id("prediction")
        expect(prediction).to_have_text(re.compile(r"^\d$"))
        expect(page.get_by_test_id("correct-none")).to_be_visible()
        page.wait_for_timeout(300)
        assert store.count(engine) == before  # nothing is sent without the tap
        said = prediction.inner_text()
        other = "1" if said != "1" else "2"
        page.get_by_test_id(f"correct-{other}").click()
        expect(page.get_by_test_id("feedback-status")).to_have_text("Thanks — saved.")
        expect(page.get_by_test_id(f"correct-{other}")).to_be_disabled()  # once per answer
        assert store.count(engine) == before + 1
        images, labels = store.load(engine)
        assert labels[-1] == int(other)
        shown = page.evaluate("""() => Array.from(document.querySelector('[data-testid="preview"]')
            .getContext('2d').getImageData(0, 0, 28, 28).data.filter((_, i) => i % 4 === 0))""")
        assert np.abs(images[-1].astype(int).ravel() - np.array(shown)).max() <= 1  # what was shown is what was sent
        summary = store.summary(engine)
        assert summary["labels"][other] >= 1
    finally:
        engine.dispose()


# ----- the explorer -----------------------------------------------------------------------------

AXE = ROOT / "build" / "npm" / "node_modules" / "axe-core" / "axe.min.js"  # ./run.sh test installs it


def serious_violations(page: Page) -> list[str]:
    assert AXE.exists(), f"{AXE} is missing: ./run.sh test installs axe-core from npm"
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document)).violations"
                          ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
                          ".map(v => v.id + ': ' + v.nodes.length + ' ' + v.help)")
    return list(found)


PANELS = ["architecture", "curves", "confusion", "filters", "errors", "saliency", "feature-maps", "maths"]


@pytest.fixture
def axe_context(browser: Browser) -> Iterator[BrowserContext]:
    """A context that lets the test inject axe-core (the pages' CSP rightly refuses inline scripts)."""
    ctx = browser.new_context(viewport={"width": 1100, "height": 900}, bypass_csp=True)
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


NUMBERS = ["No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_explorer_shows_the_network_and_every_model_answers(axe_context: BrowserContext, server: str,
                                                                 scheme: str) -> None:
    page = axe_context.new_page()
    page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    page.goto(server + "/")
    page.get_by_text("How does it decide?").click()
    expect(page).to_have_url(re.compile(r"/explore$"))
    for panel in PANELS:
        expect(page.get_by_test_id(panel)).to_be_visible()
    served = page.evaluate("fetch('/api/models').then(r => r.json()).then(d => d.models)")
    names = [m["name"] for m in served]
    default = next(m for m in served if m["default"])
    # the menu names each model once; the chosen one's description is the line under it
    assert page.get_by_test_id("model-select").locator("option").all_inner_texts() == [
        f"{m['name']} (default)" if m["default"] else m["name"] for m in served]
    expect(page.get_by_test_id("model-about")).to_have_text(default["description"])
    expect(page.get_by_test_id("model-line")).to_contain_text(f"version {default['version']}")
    expect(page.get_by_test_id("compare-heading")).to_have_text(f"{NUMBERS[len(names)]} networks answer")
    expect(page.locator("#architecture li")).to_have_count(len(page.evaluate(
        "fetch('/api/model').then(r => r.json()).then(m => m.architecture)")) + 2)  # + input and total
    expect(page.locator("#curves svg polyline")).to_have_count(4)
    expect(page.locator("#confusion tbody tr")).to_have_count(10)
    assert page.locator("#errors canvas").count() >= 10
    expect(page.locator("#filters canvas")).to_have_count(32)  # the shipped CNN's first convolution
    expect(page.get_by_test_id("maths")).to_contain_text("Z1 = W1·A0 + b1")
    draw(page, DIGITS["7"])
    expect(page.get_by_test_id("compare")).to_be_visible()
    assert set(names) >= {"digitpad", "handwriting", "mlp", "blog"}  # the shipped models
    for name in names:  # every model answers, side by side
        expect(page.get_by_test_id(f"compare-{name}")).to_have_text(re.compile(r"^(\d|—)$"))
    # each panel names its model once ("mlp", not "mlp: mlp"), then its size and MNIST score
    assert page.locator("#compare .model h4").all_inner_texts() == names
    for m in served:
        facts = page.locator(f'#compare .model[data-model="{m["name"]}"] .facts span')
        expect(facts).to_have_text([re.compile(r"^[\d.]+[KM]? parameters$"),
                                    f"{m['test_accuracy'] * 100:.1f}% on MNIST"])
    expect(page.locator("#feature-maps .layer").first).to_be_visible()
    assert page.locator("#feature-maps canvas").count() > 64
    lit = page.evaluate("""() => {
        const d = document.querySelector('[data-testid="saliency"]').getContext('2d').getImageData(0, 0, 28, 28).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 0) n++; return n; }""")
    assert lit > 20
    if SHIPPED.exists():
        expect(page.get_by_test_id("compare-digitpad")).to_have_text("7")
    page.get_by_test_id("model-select").select_option("blog")  # the tutorial's network: no convolution
    blog = next(m for m in served if m["name"] == "blog")
    expect(page.get_by_test_id("model-about")).to_have_text(blog["description"])
    expect(page.get_by_test_id("filters")).to_contain_text("no convolution")
    expect(page.get_by_test_id("maths")).to_contain_text("W1 is 10×784")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"explore-{scheme}.png", full_page=True)
    assert serious_violations(page) == []


def test_the_explorer_works_on_a_phone(browser: Browser, server: str) -> None:
    ctx = browser.new_context(viewport={"width": 390, "height": 800}, device_scale_factor=2, is_mobile=True,
                              has_touch=True, bypass_csp=True)
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        page = ctx.new_page()
        page.goto(server + "/explore")
        expect(page.get_by_test_id("architecture")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth + 1")  # nothing wider than the phone
        assert serious_violations(page) == []
    finally:
        ctx.close()


def test_the_main_page_has_no_serious_accessibility_violation(axe_context: BrowserContext, server: str) -> None:
    page = axe_context.new_page()
    page.goto(server)
    draw(page, DIGITS["7"])
    expect(page.get_by_test_id("prediction")).to_have_text(re.compile(r"^\d$"))
    assert serious_violations(page) == []


# ----- offline API docs -------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "operation"), [("/docs", "/api/predict"), ("/redoc", "/api/predict")])
def test_api_docs_render_with_the_network_blocked(context: BrowserContext, server: str, path: str,
                                                  operation: str) -> None:
    outside: list[str] = []

    def only_local(route: Any) -> None:
        url = route.request.url
        if url.startswith(server) or url.startswith("data:"):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page = context.new_page()
    page.route("**/*", only_local)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server + path)
    if path == "/docs":
        expect(page.locator(".opblock-summary-path").first).to_be_visible()
        paths = page.locator(".opblock-summary-path").all_inner_texts()
    else:
        expect(page.get_by_text("Read one digit from an image or prepared pixels").first).to_be_visible()
        paths = [page.content()]
    assert any(operation in p for p in paths)
    assert outside == []  # nothing was asked of the internet
    # ReDoc's own footer logo points at its CDN: the CSP refuses it, and nothing else
    refused = [e for e in errors if "Content Security Policy" in e and "cdn.redoc.ly/redoc/logo" not in e]
    assert refused == [], refused
