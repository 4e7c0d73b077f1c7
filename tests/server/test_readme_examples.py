"""The README's curl commands, run verbatim (with bash, from the repository's root) against a real
``digitpad-serve``: each must print JSON and succeed. The only change is the address: the
server listens on a free port instead of 8000."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from scripts.harness.server import serving
from tests.paths import ROOT


def commands() -> list[str]:
    """Every `curl` command in the README's indented code blocks, continuation lines joined."""
    lines = (ROOT / "README.md").read_text().splitlines()
    found, current = [], ""
    for line in lines:
        code = line[4:] if line.startswith("    ") else None
        if code is None:
            current = ""
            continue
        if current:
            current += "\n" + code
        elif code.lstrip().startswith("curl -s") and "127.0.0.1:8000" in line + "".join(lines):
            current = code
        if current and not current.rstrip().endswith("\\"):
            found.append(re.sub(r"\s+#[^\n]*$", "", current))
            current = ""
    return [c for c in found if "127.0.0.1:8000" in c]


def test_the_readme_curl_commands_work_as_written(tmp_path: Path) -> None:
    cmds = commands()
    assert len(cmds) >= 12, cmds
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
