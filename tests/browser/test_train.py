"""The explorer's Train panel in a real browser, against a real digitpad-serve that trains.

A run of the tutorial's network (784-10-10, full-batch gradient descent) is started from the page:
its curve grows point by point, its first layer's pictures change, Pause holds it, Step takes one
more step and shows that step's equations with their numbers, and the pad asks the trained
network beside the shipped ones. A short run to its end shows the confusion matrix and says how it
ended; a run with a learning rate of 10⁶ stops as diverged, in words. With training off, the panel
says so and offers nothing to press. Every wait is Playwright's (expect, wait_for_function):
nothing sleeps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from scripts.harness.server import serving
from tests.app_fixtures import app_weights
from tests.browser.test_browser import DIGITS, SHIPPED, TIMEOUT_MS, draw

pytestmark = pytest.mark.browser  # Debian's Chromium

PERCENT = re.compile(r"^\d{1,3}\.\d\s%$")  # "84.7 %" (a no-break space)
CURVE = "document.querySelector('[data-testid=\"train-curve\"]')"
WEIGHTS = "document.querySelector('[data-testid=\"train-weights\"]')"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    weights = SHIPPED if SHIPPED.exists() else app_weights(tmp_path_factory.mktemp("w") / "tiny.npz")
    # Two slots: a test's run may still be winding down on the server when the next test starts one.
    with serving(tmp_path_factory.mktemp("log"), weights, training_runs=2) as s:
        yield s.url


def explorer(browser: Browser, url: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(url + "/explore")
        yield page
    finally:
        context.close()  # closes the run's stream: the server stops the run


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    yield from explorer(browser, server)


def points(page: Page) -> int:
    """How many steps the curve has drawn."""
    return int(page.get_by_test_id("train-curve").get_attribute("data-points") or 0)


def first_picture(page: Page) -> list[int]:
    """The first unit's weight picture, RGBA bytes."""
    return page.evaluate("""() => Array.from(document.querySelector('[data-testid="train-weights"] canvas')
                                      .getContext('2d').getImageData(0, 0, 28, 28).data)""")


def weights_step(page: Page) -> int:
    return int(page.get_by_test_id("train-weights").get_attribute("data-step") or -1)


def test_a_run_learns_on_screen_pauses_steps_and_answers_the_pad(page: Page) -> None:
    start = page.get_by_test_id("train-start")
    expect(start).to_be_enabled()
    # the tutorial's settings, as the panel opens
    expect(page.get_by_test_id("train-network")).to_have_value("tutorial")
    expect(page.get_by_test_id("train-optimizer")).to_have_value("gd")
    expect(page.get_by_test_id("train-lr")).to_have_value("0.1")
    expect(page.locator("#train-full")).to_be_checked()
    # as many steps as the server allows, so that Pause surely comes before the end
    steps = page.get_by_test_id("train-steps")
    steps.fill(steps.get_attribute("max") or "5000")
    start.click()
    expect(page.get_by_test_id("train")).to_have_attribute("data-state", "running")

    page.wait_for_function(f"() => +{CURVE}.dataset.points > 0")
    expect(page.get_by_test_id("train-accuracy")).to_have_text(PERCENT)
    expect(page.locator("[data-testid='train-weights'] canvas")).to_have_count(10)  # ten 28×28 units
    expect(page.locator("[data-testid='train-grid'] figure")).to_have_count(16)
    seen, picture, step = points(page), first_picture(page), weights_step(page)
    page.wait_for_function(f"(n) => +{CURVE}.dataset.points > n", arg=seen)  # the curve grows
    page.wait_for_function(f"(s) => +{WEIGHTS}.dataset.step > s", arg=step)  # newer pictures came
    assert first_picture(page) != picture, "the first unit's picture did not change as it trained"

    page.get_by_test_id("train-pause").click()
    expect(page.get_by_test_id("train")).to_have_attribute("data-state", "paused")
    expect(page.get_by_test_id("train-pause")).to_have_text("Resume")
    expect(page.get_by_test_id("train-status")).to_contain_text("Paused after step")
    paused_at = int(re.findall(r"step (\d+)", page.get_by_test_id("train-status").inner_text())[0])

    page.get_by_test_id("train-step").click()  # one step more, and its maths on training image 0
    expect(page.get_by_test_id("train-numbers")).to_contain_text(f"step {paused_at + 1} of")
    maths = page.get_by_test_id("train-maths")
    expect(maths).to_contain_text("Z1 = W1·X + b1")
    expect(maths.locator("[data-term]")).to_have_count(15)  # Z1 … db1, then W1, b1, W2, b2 updated
    expect(maths.locator("[data-term='dW1'] canvas")).to_have_count(10)  # 10×784 as ten pictures
    expect(page.get_by_test_id("train-maths-loss")).to_have_text(re.compile(r"^\S+ → \S+$"))

    page.get_by_test_id("pad").scroll_into_view_if_needed()
    draw(page, DIGITS["7"])
    expect(page.get_by_test_id("compare-trained")).to_have_text(re.compile(r"^(\d|—)$"))
    expect(page.locator("#compare .model[data-model='trained'] h4")).to_have_text("your network")

    download = page.get_by_test_id("train-download")
    expect(download).to_be_visible()
    npz = page.request.get(download.evaluate("a => a.href"))
    assert npz.ok and npz.body()[:2] == b"PK", "weights.npz is not a zip"

    page.get_by_test_id("train-reset").click()  # forgets the run: the pad asks the shipped ones only
    expect(page.get_by_test_id("train")).to_have_attribute("data-state", "idle")
    expect(page.get_by_test_id("compare-trained")).to_have_count(0)
    expect(page.get_by_test_id("train-weights").locator("canvas")).to_have_count(0)


def test_a_finished_run_says_so_and_shows_its_confusion_matrix(page: Page) -> None:
    page.get_by_test_id("train-steps").fill("60")
    page.get_by_test_id("train-start").click()
    expect(page.get_by_test_id("train")).to_have_attribute("data-state", "stopped", timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("train-status")).to_have_text(re.compile(r"^Finished: 60 steps, \d{1,3}\.\d\s% "))
    expect(page.get_by_test_id("train-accuracy")).to_have_text(PERCENT)
    expect(page.locator("[data-testid='train-confusion'] tbody tr")).to_have_count(10)
    assert points(page) >= 2
    # every validation digit carries the final answer, ticked or crossed
    captions = page.locator("[data-testid='train-grid'] figcaption").all_inner_texts()
    assert len(captions) == 16 and all(re.match(r"^[✓✗] \d", c) for c in captions), captions
    page.get_by_test_id("train-maths-go").click()  # the maths works on a stopped run too
    expect(page.get_by_test_id("train-maths")).to_contain_text("dZ2 = A2 − Y")


def test_with_training_off_the_panel_says_so_and_offers_nothing(browser: Browser,
                                                                tmp_path_factory: pytest.TempPathFactory) -> None:
    weights = SHIPPED if SHIPPED.exists() else app_weights(tmp_path_factory.mktemp("w") / "tiny.npz")
    with serving(tmp_path_factory.mktemp("log"), weights, training="off") as s:
        for page in explorer(browser, s.url):
            expect(page.get_by_test_id("train-off")).to_contain_text("Training is turned off")
            for control in ("train-start", "train-pause", "train-step", "train-reset", "train-network"):
                expect(page.get_by_test_id(control)).to_be_hidden()
            expect(page.get_by_test_id("architecture")).not_to_be_empty()  # the rest of the explorer works


def test_a_diverging_run_stops_and_says_why(page: Page) -> None:
    page.get_by_test_id("train-lr").fill("1e6")  # allowed: watching it diverge is a lesson
    page.get_by_test_id("train-start").click()
    expect(page.get_by_test_id("train")).to_have_attribute("data-state", "stopped", timeout=TIMEOUT_MS)
    status = page.get_by_test_id("train-status")
    expect(status).to_contain_text("Diverged at step")
    expect(status).to_contain_text("try a smaller one")
    expect(status).to_have_attribute("data-tone", "warn")
