"""The documentation's curl commands (README.md and docs/api.md), run verbatim with bash against a
real ``digitpad-serve``: each must print JSON and succeed. Two things change: the address (the
server listens on a free port instead of 8000), and the folder they run in, which holds the
repository's ``examples/`` and takes the files a command writes (``body.json``) instead of the
checkout. A command is a ``curl`` line with its continuation lines, after the lines of the same
code block that prepare it (writing a body, say).

The README's advice on large files is held to it too: with a photo too large for the command line
in place of ``examples/digit.png``, the upload and the JSON body written to a file still answer,
and the ``"$(base64 …)"`` form fails as the README says it does."""

from __future__ import annotations

import io
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from scripts.harness.server import serving
from tests.paths import ROOT

PAGES = (ROOT / "README.md", ROOT / "docs" / "api.md")
ADDRESS = "http://127.0.0.1:8000"
ARG_MAX = 128 * 1024  # Linux's limit on one argument (MAX_ARG_STRLEN)


def commands(page: Path) -> list[str]:
    """Every `curl` command against 127.0.0.1:8000 in a page's indented code blocks, continuation
    lines joined, trailing comments dropped, each after the lines before it in its block that are
    not commands themselves."""
    found, current, setup = [], "", list[str]()
    for line in page.read_text().splitlines():
        code = line[4:] if line.startswith("    ") else None
        if code is None:
            current, setup = "", []
            continue
        if current:
            current += "\n" + code
        elif code.lstrip().startswith("curl -s"):
            current = "\n".join([*setup, code])
        elif code.strip():
            setup.append(code)
        if current and not current.rstrip().endswith("\\"):
            found.append(re.sub(r"\s+#[^\n]*$", "", current))
            current, setup = "", []
    return [c for c in found if ADDRESS in c]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(tmp_path_factory.mktemp("log"), ROOT / "weights" / "digitpad.npz") as s:
        yield s.url


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Where the commands run: the repository's examples/, and room for what they write."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    return tmp_path


def run(cmd: str, url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", cmd.replace(ADDRESS, url)], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def test_the_pages_show_their_commands() -> None:
    readme, api = (commands(page) for page in PAGES)
    assert len(readme) >= 6, readme  # the README's most useful calls
    assert len(api) >= 15, api  # every endpoint of the reference that curl can show
    assert set(readme) <= set(api), set(readme) - set(api)  # the reference shows the README's calls too
    assert any(c.startswith("curl -s -F file=@") for c in readme)  # the upload, for any file
    assert any("--data-binary @body.json" in c and "> body.json" in c for c in readme)  # JSON of any size


def test_the_documented_curl_commands_work_as_written(server: str, folder: Path) -> None:
    cmds = list(dict.fromkeys(c for page in PAGES for c in commands(page)))  # each once, in order
    for cmd in cmds:
        done = run(cmd, server, folder)
        assert done.returncode == 0, (cmd, done.stderr)
        if "/metrics" in cmd:
            assert "digitpad_http_requests_total" in done.stdout
            continue
        answer = json.loads(done.stdout)
        assert "code" not in answer and "error" not in answer, (cmd, done.stdout[:300])
        if "/api/read" in cmd:
            assert answer["text"] == "2026"
        if "/api/predict" in cmd and "batch" not in cmd:
            assert answer["digit"] == 7 and answer["verdict"] == "digit", (cmd, answer["digit"])
        if "errors=inline" in cmd:
            assert [sorted(r) for r in answer["results"]][1] == ["error"], (cmd, answer)


def photo(side: tuple[int, int] = (1200, 900), seed: int = 0) -> bytes:
    """A phone's photo of a 7 written on paper, as JPEG: light falling across it, the paper's grain."""
    w, h = side
    im = Image.new("L", side, 0)
    ImageDraw.Draw(im).line([(w * 0.35, h * 0.2), (w * 0.65, h * 0.2), (w * 0.45, h * 0.85)], fill=255,
                            width=w // 28, joint="curve")
    ink = np.asarray(im.filter(ImageFilter.GaussianBlur(3)), np.float64) / 255
    paper = 225 + 15 * np.linspace(-1, 1, w)[None, :] + np.random.default_rng(seed).normal(0, 4, (h, w))
    grey = paper * (1 - ink) + 40 * ink
    rgb = np.stack([grey, grey * 0.98, grey * 0.93], axis=-1).clip(0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def test_the_readmes_forms_for_a_large_photo(server: str, folder: Path) -> None:
    (folder / "photo.jpg").write_bytes(photo())
    assert 4 * (folder / "photo.jpg").stat().st_size / 3 > ARG_MAX  # its base64 is too long for one argument
    sends = [c for c in commands(PAGES[0]) if "examples/digit.png" in c]
    by_form = {form: [c.replace("examples/digit.png", "photo.jpg") for c in sends if form in c]
               for form in ("-F file=@", "--data-binary @body.json", "$(base64")}
    assert all(by_form.values()), by_form
    for cmd in by_form["-F file=@"] + by_form["--data-binary @body.json"]:
        done = run(cmd, server, folder)
        assert done.returncode == 0, (cmd, done.stderr)
        assert json.loads(done.stdout)["digit"] == 7, (cmd, done.stdout[:300])
    for cmd in by_form["$(base64"]:
        done = run(cmd, server, folder)
        assert done.returncode != 0 and "Argument list too long" in done.stderr, (cmd, done.stderr)
