"""Every page fits its viewport and passes axe-core, at phone, tablet and laptop widths, light and dark.

One digitpad-serve, one Chromium, one browser context per (width, colour scheme); in each, the
four pages are visited in turn, each once its real content is on screen (a drawing read on the
drawing page and in the explorer, where a short run of the Train panel has drawn its curve,
pictures, confusion matrix and one step's maths first, the operations rendered by Swagger UI and
ReDoc). A page fits
when ``document.documentElement.scrollWidth`` is at most the window's width (nothing scrolls
sideways) without the root or the body clipping what is wider. A failure names the page, the
width, the scheme and the elements that stick out furthest past the right edge, with their
selectors and widths, so that it says what to fix. axe-core must find no serious or critical issue
on any page, in either scheme (run at the narrowest and the widest width).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Literal

import pytest
from playwright.sync_api import Browser, Page, expect

from scripts.harness.server import serving
from tests.app_fixtures import app_weights
from tests.browser.test_browser import DIGITS, SHIPPED, TIMEOUT_MS, draw, serious_violations

pytestmark = pytest.mark.browser  # Debian's Chromium

WIDTHS = [360, 390, 768, 1280]  # two phones, a tablet, a laptop
# axe-core takes seconds on the docs' pages: run at the narrowest and the widest width, which lay
# the pages out differently (ReDoc's side menu, for one, shows only on a wide window).
AXE_WIDTHS = {360, 1280}
Scheme = Literal["light", "dark"]
SCHEMES: list[Scheme] = ["light", "dark"]
HEIGHT = 800

# The elements past the window's right edge that are not inside a box that clips or scrolls them
# (those do not widen the page), outermost first (a wide child makes its parents wide too), widest
# right edge first.
OFFENDERS = """(width) => {
  const name = (e) => {
    let s = e.tagName.toLowerCase();
    if (e.id) return s + '#' + e.id;
    const test = e.getAttribute('data-testid');
    if (test) return s + '[data-testid="' + test + '"]';
    const classes = typeof e.className === 'string' ? e.className.trim().split(/\\s+/).filter(Boolean) : [];
    return s + classes.slice(0, 2).map((c) => '.' + c).join('');
  };
  const selector = (e) => {
    const parts = [];
    for (let n = e; n && n !== document.body && parts.length < 4; n = n.parentElement) {
      parts.unshift(name(n));
      if (n.id) break;
    }
    return parts.join(' > ');
  };
  const clipped = (e) => {
    for (let n = e.parentElement; n && n !== document.body; n = n.parentElement) {
      if (getComputedStyle(n).overflowX !== 'visible') return true;
    }
    return false;
  };
  const out = (e) => e.getBoundingClientRect().right > width + 1 && !clipped(e);
  return [...document.body.querySelectorAll('*')]
    .filter((e) => out(e) && !(e.parentElement !== document.body && out(e.parentElement)))
    .map((e) => { const r = e.getBoundingClientRect();
                  return { selector: selector(e), width: Math.round(r.width), right: Math.round(r.right) }; })
    .sort((a, b) => b.right - a.right)
    .slice(0, 5);
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    weights = SHIPPED if SHIPPED.exists() else app_weights(tmp_path_factory.mktemp("w") / "tiny.npz")
    with serving(tmp_path_factory.mktemp("log"), weights) as s:
        yield s.url



# ----- each page, once its content is there ---------------------------------------------------

def drawing_page(page: Page) -> None:
    draw(page, DIGITS["7"])
    expect(page.get_by_test_id("prediction")).not_to_be_empty()


def explorer(page: Page) -> None:
    for panel in ("architecture", "curves", "confusion", "filters", "errors", "maths"):
        expect(page.get_by_test_id(panel)).not_to_be_empty()
    trained(page)
    names = page.evaluate("fetch('/api/models').then(r => r.json()).then(d => d.models.map(m => m.name))")
    page.get_by_test_id("pad").scroll_into_view_if_needed()
    draw(page, DIGITS["7"])
    for name in [*names, "trained"]:  # every model's panel has its answer, and the network trained here
        expect(page.get_by_test_id(f"compare-{name}")).to_be_visible()
    expect(page.locator("#feature-maps .layer").first).to_be_visible()


def trained(page: Page) -> None:
    """The Train panel with everything it shows: a short run to its end, and its maths all open."""
    page.get_by_test_id("train-steps").fill("20")
    page.get_by_test_id("train-start").click()
    expect(page.get_by_test_id("train")).to_have_attribute("data-state", "stopped", timeout=TIMEOUT_MS)
    expect(page.locator("[data-testid='train-confusion'] table")).to_be_visible()
    page.get_by_test_id("train-maths-go").click()
    expect(page.get_by_test_id("train-maths-loss")).to_be_visible()
    page.locator("[data-testid='train-maths'] details").evaluate_all("ds => ds.forEach(d => { d.open = true; })")


def swagger(page: Page) -> None:
    operation = page.locator(".opblock-summary-path").first
    expect(operation).to_be_visible()
    operation.click()  # one operation opened, as a reader would: parameters, body, responses
    expect(page.locator(".opblock-body .responses-table").first).to_be_visible()


def redoc(page: Page) -> None:
    expect(page.locator("[data-section-id^='operation/']").first).to_be_visible()
    expect(page.locator("[data-section-id^='operation/'] table").first).to_be_visible()


PAGES: dict[str, Callable[[Page], None]] = {"/": drawing_page, "/explore": explorer, "/docs": swagger,
                                            "/redoc": redoc}


# ----- what is wrong with a page ----------------------------------------------------------------

def overflow(page: Page, width: int) -> str | None:
    """What sticks out of the window sideways, or None when the page fits."""
    wide, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if wide <= min(inner, width):
        return None
    found: list[dict[str, Any]] = page.evaluate(OFFENDERS, width)
    culprits = "; ".join(f"{o['selector']} ({o['width']} px wide, right edge at {o['right']} px)" for o in found)
    return f"{wide} px wide; past the edge: {culprits or 'nothing found'}"


def hidden_overflow(page: Page) -> str | None:
    """A page must fit, not hide what does not fit: the root and the body do not clip sideways."""
    clipping = page.evaluate("[document.documentElement, document.body]"
                             ".filter(e => ['hidden', 'clip'].includes(getComputedStyle(e).overflowX))"
                             ".map(e => e.tagName.toLowerCase())")
    return f"{' and '.join(clipping)} hide what is wider than the window" if clipping else None


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_its_window_and_passes_axe(browser: Browser, server: str, width: int,
                                                   scheme: Scheme) -> None:
    context = browser.new_context(viewport={"width": width, "height": HEIGHT}, color_scheme=scheme,
                                  bypass_csp=True)  # axe-core is injected as a script
    context.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    try:
        page = context.new_page()
        for path, ready in PAGES.items():
            page.goto(server + path)
            ready(page)
            found = [overflow(page, width), hidden_overflow(page)]
            if width in AXE_WIDTHS:
                found += [f"axe: {v}" for v in serious_violations(page)]
            problems += [f"{path} at {width} px, {scheme}: {p}" for p in found if p]
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
