"""The documentation's curl commands (README.md and docs/api.md), run verbatim (with bash, from the
repository's root) against a real ``digitpad-serve``: each must print JSON and succeed. The only
change is the address: the server listens on a free port instead of 8000."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from scripts.harness.server import serving
from tests.paths import ROOT

PAGES = (ROOT / "README.md", ROOT / "docs" / "api.md")


def commands(page: Path) -> list[str]:
    """Every `curl` command against 127.0.0.1:8000 in a page's indented code blocks, continuation
    lines joined, trailing comments dropped."""
    found, current = [], ""
    for line in page.read_text().splitlines():
        code = line[4:] if line.startswith("    ") else None
        if code is None:
            current = ""
            continue
        if current:
            current += "\n" + code
        elif code.lstrip().startswith("curl -s"):
            current = code
        if current and not current.rstrip().endswith("\\"):
            found.append(re.sub(r"\s+#[^\n]*$", "", current))
            current = ""
    return [c for c in found if "http://127.0.0.1:8000" in c]


def test_the_pages_show_their_commands() -> None:
    readme, api = (commands(page) for page in PAGES)
    assert len(readme) >= 5, readme  # the README's five most useful calls
    assert len(api) >= 13, api  # every endpoint of the reference that curl can show
    assert set(readme) <= set(api), set(readme) - set(api)  # the reference shows the README's calls too


def test_the_documented_curl_commands_work_as_written(tmp_path: Path) -> None:
    cmds = list(dict.fromkeys(c for page in PAGES for c in commands(page)))  # each once, in order
    with serving(tmp_path, ROOT / "weights" / "digitpad.npz") as s:
        for cmd in cmds:
            run = subprocess.run(["bash", "-c", cmd.replace("http://127.0.0.1:8000", s.url)], cwd=ROOT,
                                 capture_output=True, text=True, timeout=60)
            assert run.returncode == 0, (cmd, run.stderr)
            if "/metrics" in cmd:
                assert "digitpad_http_requests_total" in run.stdout
                continue
            answer = json.loads(run.stdout)
            assert "code" not in answer and "error" not in answer, (cmd, run.stdout[:300])
            if "/api/read" in cmd:
                assert answer["text"] == "2026"
            if "/api/predict" in cmd and "batch" not in cmd:
                assert answer["digit"] == 7 and answer["verdict"] == "digit", (cmd, answer["digit"])
