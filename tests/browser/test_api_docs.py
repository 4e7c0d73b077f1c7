"""The API's documentation pages in a real browser (Playwright driving Debian's Chromium): ReDoc
(``/redoc``) keeps every error code whole on a laptop and on a phone, and lists the limits and every
code in sections of its own; Swagger UI (``/docs``) opens on the endpoints, with a short
introduction that links to those sections. Both fit the screen."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from app.api.errors import CODES
from scripts.harness.server import serving
from tests.browser.test_browser import SHIPPED, TIMEOUT_MS

pytestmark = pytest.mark.browser  # Debian's Chromium

EVERY_CODE = sorted({code for codes in CODES.values() for code in codes})
SCREENS = {"laptop": (1280, 800), "phone": (360, 780)}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(tmp_path_factory.mktemp("log"), SHIPPED) as s:
        yield s.url



@pytest.fixture(params=list(SCREENS))
def page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    width, height = SCREENS[request.param]
    ctx = browser.new_context(viewport={"width": width, "height": height}, is_mobile=request.param == "phone")
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx.new_page()
    ctx.close()


def fits(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= innerWidth + 1"))


def redoc(page: Page, url: str | None = None) -> None:
    """Open ReDoc at ``url`` (or wait on the page already opening) until it has drawn the endpoints:
    a megabyte of script to run, which can take more than expect's usual 5 s on a busy machine."""
    if url:
        page.goto(url)
    endpoint = page.locator("h2", has_text="Read one digit from an image or prepared pixels")
    expect(endpoint).to_be_attached(timeout=TIMEOUT_MS)


def heading(page: Page, name: str) -> Locator:
    """ReDoc's heading of the section ``name``."""
    return page.locator("h2").filter(has_text=re.compile(f"^{name}$"))


def test_redoc_keeps_every_error_code_on_one_line(page: Page, server: str) -> None:
    redoc(page, server + "/redoc")
    shown = page.evaluate("""codes => [...document.querySelectorAll('code')]
        .filter(c => codes.includes(c.textContent.trim()))
        .map(c => ({code: c.textContent.trim(), lines: c.getClientRects().length}))""", EVERY_CODE)
    assert {s["code"] for s in shown} == set(EVERY_CODE)  # the Errors section shows each
    split = [s for s in shown if s["lines"] != 1]  # an inline element split across lines has a box per line
    assert split == [], split
    assert fits(page)


def test_redoc_has_the_limits_and_the_errors_as_sections(page: Page, server: str) -> None:
    redoc(page, server + "/redoc#tag/Errors")
    expect(heading(page, "Errors")).to_be_in_viewport()
    section = page.locator("[data-section-id='tag/Errors']")
    for code in EVERY_CODE:
        expect(section.locator("code", has_text=code).first).to_be_visible()
    limits = page.locator("[data-section-id='tag/Limits']")
    expect(limits).to_contain_text("request bodies up to 1 MiB")
    expect(limits).to_contain_text("batches of up to 64 inputs")


def test_swagger_opens_on_the_endpoints(page: Page, server: str) -> None:
    page.goto(server + "/docs")
    first = page.locator(".opblock").first
    expect(first).to_be_in_viewport(timeout=TIMEOUT_MS)  # the first endpoint, without scrolling
    expect(first.locator(".opblock-summary-path")).to_have_text("/api/predict")
    tags = page.locator(".opblock-tag").all_inner_texts()
    assert not any(t.startswith(("Errors", "Limits")) for t in tags), tags  # ReDoc's sections are not here
    expect(page.locator(".info")).not_to_contain_text("headers_too_large")  # no table of every code above them
    assert fits(page)
    with page.context.expect_page() as opened:  # Swagger UI opens the introduction's links in a new tab
        page.locator(".info").get_by_role("link", name="every error code").click()
    expect(opened.value).to_have_url(server + "/redoc#tag/Errors")
    redoc(opened.value)
    expect(heading(opened.value, "Errors")).to_be_in_viewport()
