"""``digitpad-predict``, the small client, against a real ``digitpad-serve``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts import predict
from scripts.harness.ports import free_port
from scripts.harness.server import serving
from tests.paths import ROOT

DIGIT = ROOT / "examples" / "digit.png"


def test_reads_files_and_says_what_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with serving(tmp_path, ROOT / "weights" / "digitpad.npz") as s:
        assert predict.main([str(DIGIT), "--url", s.url]) == 0
        out = capsys.readouterr().out.strip().split("\t")
        assert out[0] == str(DIGIT) and out[1] == "7" and out[2] in ("digit", "unsure") and 0 < float(out[3]) <= 1
        assert predict.main([str(DIGIT), str(DIGIT), "--url", s.url, "--json", "--model", "blog"]) == 0
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert len(lines) == 2 and lines[0]["model"]["name"] == "blog" and "preview" not in lines[0]
        junk = tmp_path / "junk.png"
        junk.write_bytes(b"not an image")
        assert predict.main([str(junk), str(tmp_path / "missing.png"), str(DIGIT), "--url", s.url]) == 1
        captured = capsys.readouterr()
        assert "invalid_image" in captured.err and "missing.png" in captured.err
        assert captured.out.count("\t7\t") == 1  # the good file is still read
    assert predict.main([str(DIGIT), "--url", f"http://127.0.0.1:{free_port()}"]) == 1
    assert "cannot reach" in capsys.readouterr().err
