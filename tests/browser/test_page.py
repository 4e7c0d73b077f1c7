"""The drawing page's tools and manners in a real browser, on a laptop and a phone, light and dark:
honest bars, the tagline and tabs of the two modes, pen widths, the eraser, "Right!", the keyboard
hint, and reconnecting by itself when the server goes away and comes back.

Playwright drives Debian's Chromium against a real digitpad-serve on 127.0.0.1 serving the
shipped weights (tests/browser/test_browser.py says more). A phone is drawn on with touch events,
a laptop with the mouse."""

from __future__ import annotations

import itertools
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from app.storage import feedback as store
from app.storage.database import connect
from scripts.harness.ports import free_port
from scripts.harness.server import running, serving
from tests.browser.test_browser import ink_at
from tests.paths import ROOT

pytestmark = pytest.mark.browser  # Debian's Chromium

SHIPPED = ROOT / "weights" / "digitpad.npz"
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "build" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 30_000  # a bound on a hang: each wait ends as soon as the page is there

LAPTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True,
                         "has_touch": True}
Scheme = Literal["light", "dark"]
DEVICES: dict[str, tuple[dict[str, Any], Scheme]] = {"laptop-light": (LAPTOP, "light"), "phone-dark": (PHONE, "dark")}

Path_ = list[tuple[float, float]]  # points in [0, 1] × [0, 1] of the pad
ONE: list[Path_] = [[(0.52, 0.18), (0.5, 0.5), (0.48, 0.82)]]
SEVEN: list[Path_] = [[(0.28, 0.22), (0.72, 0.22)], [(0.72, 0.22), (0.56, 0.5), (0.44, 0.82)]]
A: list[Path_] = [[(0.25, 0.82), (0.5, 0.18), (0.75, 0.82)], [(0.35, 0.58), (0.65, 0.58)]]
THREE_OR_FIVE: list[Path_] = [[(0.62, 0.2), (0.65, 0.2), (0.4, 0.45), (0.65, 0.62), (0.4, 0.8)]]  # read as unsure


# ----- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert SHIPPED.exists(), "these tests read digits: they need the shipped weights"
    with serving(tmp_path_factory.mktemp("log"), SHIPPED) as s:
        yield s.url



def new_context(browser: Browser, device: dict[str, Any], scheme: Scheme, **extra: Any) -> BrowserContext:
    ctx = browser.new_context(**device, color_scheme=scheme, **extra)
    ctx.set_default_timeout(TIMEOUT_MS)
    return ctx


def open_page(ctx: BrowserContext, url: str) -> Page:
    """The page at ``url``, its script errors and CSP refusals collected in ``page.errors``."""
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.errors = errors  # type: ignore[attr-defined]
    page.goto(url)
    expect(page.get_by_test_id("pad")).to_be_visible()
    return page


@pytest.fixture(params=list(DEVICES))
def page(request: pytest.FixtureRequest, browser: Browser, server: str) -> Iterator[Page]:
    """The page on a laptop in light mode and on a phone in dark mode; no script error on it."""
    device, scheme = DEVICES[request.param]
    ctx = new_context(browser, device, scheme)
    try:
        page = open_page(ctx, server)
        yield page
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        ctx.close()


# ----- drawing ----------------------------------------------------------------------------------

def draw(page: Page, strokes: list[Path_], steps: int = 6) -> None:
    """Draw strokes on the pad: with a finger on a touch screen, else with the mouse."""
    pad = page.get_by_test_id("pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None

    def at(x: float, y: float) -> tuple[float, float]:
        return box["x"] + x * box["width"], box["y"] + y * box["height"]

    touch = page.evaluate("navigator.maxTouchPoints > 0")
    cdp = page.context.new_cdp_session(page) if touch else None
    for stroke in strokes:
        points = [at(*stroke[0])]
        for (x0, y0), (x1, y1) in itertools.pairwise(stroke):
            points += [at(x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps) for k in range(1, steps + 1)]
        if cdp is None:
            page.mouse.move(*points[0])
            page.mouse.down()
            for p in points[1:]:
                page.mouse.move(*p)
            page.mouse.up()
            continue
        for kind, p in [("touchStart", points[0]), *[("touchMove", p) for p in points[1:]]]:
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": p[0], "y": p[1]}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    if cdp is not None:
        cdp.detach()


def ink_width(page: Page, y: float) -> float:
    """How wide the ink is along the row at ``y``, in pad heights."""
    return page.evaluate(
        """(y) => {
            const c = document.querySelector('[data-testid="pad"]');
            const row = c.getContext('2d').getImageData(0, Math.floor(y * c.height), c.width, 1).data;
            let n = 0; for (let i = 3; i < row.length; i += 4) if (row[i] >= 128) n++;
            return n / c.height; }""", y)


def pct_texts(page: Page) -> list[str]:
    return [page.get_by_test_id(f"prob-{d}").locator(".pct").inner_text().strip() for d in range(10)]


def read_digit(page: Page) -> str:
    prediction = page.get_by_test_id("prediction")
    expect(prediction).to_have_text(re.compile(r"^\d$"))
    return prediction.inner_text()


def wait_until(page: Page, condition: Any, within_ms: int = TIMEOUT_MS) -> None:
    """Let the page run until ``condition()`` holds (Playwright's events are delivered meanwhile)."""
    for _ in range(within_ms // 100):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError("the condition did not come true in time")


# ----- the tests --------------------------------------------------------------------------------

def test_bars_claim_no_digit_unless_one_was_read(page: Page) -> None:
    bars, note = page.get_by_test_id("bars"), page.get_by_test_id("bars-note")
    expect(bars).to_have_attribute("data-state", "empty")  # nothing drawn: no percentages at all
    assert pct_texts(page) == [""] * 10
    draw(page, A)
    expect(page.locator("#verdict")).to_have_text("That doesn't look like a digit.")
    expect(bars).to_have_attribute("data-state", "none")
    expect(note).to_be_visible()
    expect(note).to_contain_text("No digit read")
    assert pct_texts(page) == [""] * 10  # no "4 — 100%"
    expect(page.locator(".bars li.top")).to_have_count(0)
    expect(page.get_by_test_id("prediction")).to_have_text("")
    page.get_by_test_id("clear").click()
    draw(page, THREE_OR_FIVE)
    expect(page.locator("#verdict")).to_have_text(re.compile(r"^Not sure: "))
    expect(page.get_by_test_id("prediction")).to_have_text(re.compile(r"^\d\?$"))
    expect(bars).to_have_attribute("data-state", "unsure")
    expect(note).to_be_hidden()
    expect(page.locator(".bars li.top")).to_have_count(0)  # candidates, none claimed
    assert page.locator(".bars li.maybe").count() >= 2
    assert all(re.fullmatch(r"\d{1,3}%", t) for t in pct_texts(page))
    expect(page.get_by_test_id("agree")).to_be_hidden()  # nothing was claimed, so nothing to agree with
    expect(page.locator("#correct-title")).to_have_text("Which is it?")
    page.get_by_test_id("clear").click()
    draw(page, SEVEN)
    said = read_digit(page)
    expect(bars).to_have_attribute("data-state", "digit")
    expect(page.get_by_test_id(f"prob-{said}")).to_have_class(re.compile(r"\btop\b"))
    assert said == "7"


def test_mode_tabs_follow_the_arrow_keys_and_the_tagline_follows_the_mode(page: Page) -> None:
    digit, number = page.get_by_test_id("mode-digit"), page.get_by_test_id("mode-number")
    tagline = page.locator("#tagline")
    expect(tagline).to_have_text(re.compile(r"^Draw a digit\."))
    expect(page.get_by_role("tab", name="Digit")).to_have_attribute("aria-selected", "true")
    assert (digit.get_attribute("tabindex"), number.get_attribute("tabindex")) == ("0", "-1")
    digit.focus()
    page.keyboard.press("ArrowRight")
    expect(number).to_be_focused()
    expect(number).to_have_attribute("aria-selected", "true")
    expect(digit).to_have_attribute("aria-selected", "false")
    assert (digit.get_attribute("tabindex"), number.get_attribute("tabindex")) == ("-1", "0")
    expect(tagline).to_have_text(re.compile(r"^Write a number\."))
    expect(page.get_by_role("tabpanel")).to_have_attribute("aria-labelledby", "mode-number")
    assert "mode=number" in page.url
    page.keyboard.press("ArrowRight")  # round the two tabs
    expect(digit).to_be_focused()
    expect(digit).to_have_attribute("aria-selected", "true")
    page.keyboard.press("End")
    expect(number).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowLeft")
    expect(digit).to_have_attribute("aria-selected", "true")
    expect(tagline).to_have_text(re.compile(r"^Draw a digit\."))
    number.click()  # a tap or click switches too, and the tagline follows
    expect(tagline).to_have_text(re.compile(r"^Write a number\."))
    page.reload()  # the mode is kept in the URL, the tagline with it
    expect(number).to_have_attribute("aria-selected", "true")
    expect(tagline).to_have_text(re.compile(r"^Write a number\."))


def test_pen_width_draws_thin_and_thick_is_read_and_is_kept(page: Page) -> None:
    widths = page.get_by_test_id("pen-width")
    expect(widths.get_by_label("Normal")).to_be_checked()
    widths.get_by_label("Thin").check()
    draw(page, ONE)
    assert read_digit(page) == "1"
    thin = ink_width(page, 0.5)
    page.get_by_test_id("clear").click()
    widths.get_by_label("Thick").check()
    draw(page, SEVEN)
    assert read_digit(page) == "7"
    thick = ink_width(page, 0.36)  # across the 7's stem, slanting: a little wider than the pen
    assert 0.02 < thin < 0.045 and 0.11 < thick < 0.17, (thin, thick)
    page.reload()  # kept across visits
    expect(page.get_by_test_id("pen-width").get_by_label("Thick")).to_be_checked()
    draw(page, ONE)
    read_digit(page)
    assert ink_width(page, 0.5) > 0.11


def test_eraser_rubs_out_part_of_the_drawing_and_undo_brings_it_back(page: Page) -> None:
    eraser, undo = page.get_by_test_id("eraser"), page.get_by_test_id("undo")
    on_bar, on_stem = (0.5, 0.22), (0.5, 0.6)
    draw(page, SEVEN)
    assert read_digit(page) == "7"
    eraser.click()
    expect(eraser).to_have_attribute("aria-pressed", "true")
    rubs = [[(0.3, y), (0.85, y)] for y in (0.34, 0.46, 0.58, 0.7, 0.82)]
    draw(page, rubs)
    assert ink_at(page, [on_bar, on_stem, (0.42, 0.22)]) == [255, 0, 255]  # the stem gone, the bar kept
    expect(page.locator("#verdict")).to_have_text("That doesn't look like a digit.")  # read as it now stands
    for _ in rubs:  # undo takes back each rub, then the strokes
        undo.click()
    assert ink_at(page, [on_bar, on_stem]) == [255, 255]
    expect(page.get_by_test_id("prediction")).to_have_text("7")
    undo.click()
    assert ink_at(page, [on_bar, on_stem]) == [255, 0]
    draw(page, [[(0.1, y / 20), (0.9, y / 20)] for y in range(2, 20, 2)])  # rub out everything left
    expect(page.get_by_text("Draw a digit here")).to_be_visible()
    expect(page.locator("#verdict")).to_have_text("Waiting for your drawing")
    expect(undo).to_be_enabled()  # the rubbing can still be undone
    page.get_by_test_id("pen-width").get_by_label("Normal").click()  # picking a pen puts the eraser down
    expect(eraser).to_have_attribute("aria-pressed", "false")
    draw(page, [[(0.2, 0.9), (0.8, 0.9)]])
    assert ink_at(page, [(0.5, 0.9)]) == [255]


def agreements(engine: Any) -> int:
    return sum(m["agreed"] for m in store.summary(engine)["models"])


def test_right_records_agreement_once(page: Page) -> None:
    engine = connect(os.environ["DIGITPAD_DATABASE_URL"])  # the server's database (tests/conftest.py)
    try:
        before, agreed = store.count(engine), agreements(engine)
        draw(page, SEVEN)
        said = read_digit(page)
        agree = page.get_by_test_id("agree")
        expect(agree).to_be_visible()
        expect(agree).to_have_text("Right!")
        agree.click()
        expect(page.get_by_test_id("feedback-status")).to_have_text("Thanks — saved as right.")
        expect(agree).to_be_disabled()
        expect(page.get_by_test_id(f"correct-{said}")).to_be_disabled()  # one answer, one word on it
        assert store.count(engine) == before + 1
        _, labels = store.load(engine)
        assert labels[-1] == int(said) == 7
        assert agreements(engine) == agreed + 1  # counted as the model having it right
        draw(page, [[(0.2, 0.9), (0.8, 0.9)]])  # a new drawing: a new answer to agree with
        expect(page.get_by_test_id("feedback-status")).to_have_text("")
        expect(agree).to_be_enabled()
        page.get_by_test_id("undo").click()
        expect(page.get_by_test_id("prediction")).to_have_text("7")
        assert store.count(engine) == before + 1
    finally:
        engine.dispose()


def test_keyboard_hint_shows_on_laptops_only(page: Page) -> None:
    hint = page.get_by_test_id("hint")
    if page.evaluate("navigator.maxTouchPoints > 0"):  # the phone
        expect(hint).to_be_hidden()
    else:
        expect(hint).to_be_visible()
        expect(hint).to_contain_text("Esc")


@pytest.mark.parametrize(("device", "scheme"), [(LAPTOP, "dark"), ({**PHONE, "viewport": {"width": 360, "height": 740}},
                                                                     "light")], ids=["laptop-dark", "phone360-light"])
def test_new_controls_fit_and_pass_axe(browser: Browser, server: str, device: dict[str, Any], scheme: Scheme) -> None:
    """The tools, the agreement and a not-a-digit answer on show: no sideways scroll, no serious
    accessibility issue (contrast included) in either colour scheme."""
    assert AXE.exists(), f"{AXE} is missing: ./run.sh test installs axe-core from npm"
    ctx = new_context(browser, device, scheme, bypass_csp=True)  # lets the test inject axe-core
    try:
        page = open_page(ctx, server)
        draw(page, A)
        expect(page.get_by_test_id("bars-note")).to_be_visible()
        page.get_by_test_id("eraser").click()
        page.get_by_test_id("pen-width").get_by_label("Thick").check()
        page.get_by_test_id("eraser").click()
        expect(page.get_by_test_id("agree")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        page.add_script_tag(path=str(AXE))
        found = page.evaluate("async () => (await axe.run(document)).violations"
                              ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
                              ".map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' '))")
        assert found == []
    finally:
        ctx.close()


def test_reconnects_by_itself_and_reads_the_drawing_again(browser: Browser, tmp_path: Path) -> None:
    """Server gone: no stale answer, a calm status line, tries on /readyz; server back on the same
    port: "Back online" and the drawing as it now stands is read, on a laptop and a phone at once."""
    port = free_port()
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "DIGITPAD_WEIGHTS": str(SHIPPED),
           "DIGITPAD_HOST": "127.0.0.1", "DIGITPAD_PORT": str(port), "DIGITPAD_WORKERS": "1"}
    command = [sys.executable, "-m", "app.runtime.cli"]
    contexts = [new_context(browser, LAPTOP, "light"), new_context(browser, PHONE, "dark")]
    for ctx in contexts:  # every text the status line shows, kept (it says "Back online" for a moment only)
        ctx.add_init_script("""addEventListener("DOMContentLoaded", () => {
            const line = document.querySelector('[data-testid="connection"]');
            window.__said = [];
            new MutationObserver(() => __said.push(line.textContent))
                .observe(line, {childList: true, characterData: true, subtree: true});
        });""")
    try:
        with running(tmp_path, command, port, env) as served:
            pages = [open_page(ctx, served.url) for ctx in contexts]
            for page in pages:
                draw(page, ONE)
                assert read_digit(page) == "1"
        probes: list[str] = []
        for page in pages:
            page.on("request", lambda r: probes.append(r.url) if r.url.endswith("/readyz") else None)
            draw(page, [[(0.3, 0.22), (0.52, 0.18)]])  # a flag: the 1 on show is no longer the drawing's answer
            expect(page.get_by_test_id("connection")).to_contain_text("Reconnecting")
            expect(page.locator("#verdict")).to_have_text("Not read yet")
            expect(page.get_by_test_id("prediction")).to_have_text("")
            expect(page.locator("#status")).not_to_have_class(re.compile(r"\berror\b"))  # calm, not red
        wait_until(pages[0], lambda: len(probes) >= len(pages))  # each page asks the server whether it is back
        with running(tmp_path, command, port, env):  # starts in more than the first wait: the pages try again
            for page in pages:  # within the longest wait between tries, and the time to read
                expect(page.get_by_test_id("prediction")).to_have_text(re.compile(r"^\d\??$"), timeout=TIMEOUT_MS)
                expect(page.locator("#verdict")).not_to_have_text("Not read yet")
                said = page.evaluate("window.__said")
                assert "Reconnecting" in said[0] and "Back online." in said, said
            assert len(probes) >= 2 * len(pages)
            for page in pages:
                expect(page.get_by_test_id("connection")).to_be_hidden(timeout=TIMEOUT_MS)  # gone once all is well
                # the only errors: the browser's own lines for the requests the server was not there for
                assert all("Failed to load resource" in e for e in page.errors)  # type: ignore[attr-defined]
    finally:
        for ctx in contexts:
            ctx.close()
