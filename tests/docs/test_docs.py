"""The documentation says what the code does: docs/api.md's settings table against ``Settings``
and its errors table against ``CODES``, the README short and free of history, and every relative
link in README.md and docs/*.md pointing at a file (and a heading) that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic_core import PydanticUndefined

from app.api.errors import CODES
from app.settings import Settings
from tests.paths import ROOT

README = ROOT / "README.md"
API = ROOT / "docs" / "api.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

SETTING_ROW = re.compile(r"^\| `DIGITPAD_([A-Z_]+)` \| ([^|]*) \|", re.MULTILINE)
ERROR_ROW = re.compile(r"^\| (\d{3}) \| `([a-z_]+)` \|", re.MULTILINE)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# A commit hash: 7 to 40 hex digits with at least one digit and one letter (not a plain number or word)
COMMIT = re.compile(r"\b(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b")
MODEL_VERSION = re.compile(r'"version": "[0-9a-f]{12}"')  # a weights file's SHA-256 prefix, not a commit
DECIMAL = re.compile(r"\d*\.\d+(?:e[-+]?\d+)?")  # 3.179274081670917e-05 holds no commit
HISTORY = ("this round", "last round", "round before", "since then")


def documented_settings() -> dict[str, str]:
    """docs/api.md's settings table: variable (without DIGITPAD_) → its default cell."""
    rows = SETTING_ROW.findall(API.read_text())
    names = [name for name, _ in rows]
    assert len(names) == len(set(names)), f"listed twice: {sorted({n for n in names if names.count(n) > 1})}"
    return {name: default.strip() for name, default in rows}


def test_every_setting_is_documented_and_nothing_else() -> None:
    documented = set(documented_settings())
    fields = {name.upper() for name in Settings.model_fields}
    assert not fields - documented, f"not in docs/api.md's settings table: {sorted(fields - documented)}"
    assert not documented - fields, f"in docs/api.md but not in Settings: {sorted(documented - fields)}"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_each_documented_default_is_the_real_one(name: str) -> None:
    """The first `literal` of the default cell is the field's default; a default computed at start-up
    (one per core, the packaged models, none) is described in words, with no literal."""
    field = Settings.model_fields[name]
    cell = documented_settings()[name.upper()]
    literal = re.search(r"`([^`]+)`", cell)
    default = field.default
    if default is PydanticUndefined or default is None:
        assert literal is None, f"DIGITPAD_{name.upper()}: no fixed default, yet the table shows {cell!r}"
        return
    assert literal is not None, f"DIGITPAD_{name.upper()}: the table shows no default ({cell!r})"
    shown = literal.group(1)
    if isinstance(default, bool):
        assert shown == str(default).lower()
    elif isinstance(default, int | float):
        assert float(shown) == default, f"DIGITPAD_{name.upper()}: {shown} in the table, {default} in Settings"
    elif isinstance(default, Path):
        tail = Path(shown).parts
        assert default.parts[-len(tail):] == tail, f"DIGITPAD_{name.upper()}: {shown} is not {default}"
    else:
        assert shown == str(default)


def test_every_error_code_is_documented_and_nothing_else() -> None:
    rows = [(int(status), code) for status, code in ERROR_ROW.findall(API.read_text())]
    assert len(rows) == len(set(rows)), "a status and code listed twice"
    real = {(status, code) for status, codes in CODES.items() for code in codes}
    assert not real - set(rows), f"not in docs/api.md's errors table: {sorted(real - set(rows))}"
    assert not set(rows) - real, f"in docs/api.md but not in CODES: {sorted(set(rows) - real)}"


def test_the_readme_is_short() -> None:
    lines = len(README.read_text().splitlines())
    assert lines <= 200, f"README.md has {lines} lines; details belong in docs/"


def test_the_readme_names_no_commit_and_no_history() -> None:
    text = DECIMAL.sub("", MODEL_VERSION.sub("", README.read_text()))
    assert not COMMIT.findall(text), COMMIT.findall(text)
    assert not [h for h in HISTORY if h in text.lower()]


def prose(page: Path) -> str:
    """The page without its code blocks (fenced, or indented by four spaces)."""
    kept, fenced = [], False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and not line.startswith("    "):
            kept.append(line)
    return "\n".join(kept)


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces → hyphens."""
    headings = re.findall(r"^#+ (.+)$", prose(page), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_at_what_exists(page: Path) -> None:
    broken = []
    for target in LINK.findall(prose(page)):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no such heading in {file.name}")
    assert not broken, broken
