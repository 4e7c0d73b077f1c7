"""``digitpad-predict``, the small client, against a real ``digitpad-serve``: it finds the server
where digitpad-serve's own variables put it, says each answer in words, and its --help is plain
text."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.mnist import read_idx
from scripts import predict
from scripts.harness.ports import free_port
from scripts.harness.server import Served, serving
from tests.paths import DATA, ROOT, SHIPPED

DIGIT = ROOT / "examples" / "digit.png"
IN_WORDS = {"digit": r"an? \d, (over 99\.9|\d+\.\d)% sure",
            "unsure": r"not sure: an? \d \(\d+\.\d%\)( or an? \d \(\d+\.\d%\))+",
            "not_a_digit": r"does not look like a digit, so no digit is read"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("server"), SHIPPED) as s:
        yield s


def test_reads_files_and_says_what_failed(server: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert predict.main([str(DIGIT), "--url", server.url]) == 0
    out = capsys.readouterr().out.rstrip("\n").split("\t")
    assert out[:3] == [str(DIGIT), "7", "digit"] and re.fullmatch(IN_WORDS["digit"], out[3]) and "a 7" in out[3]
    assert predict.main([str(DIGIT), str(DIGIT), "--url", server.url, "--json", "--model", "blog"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 2 and lines[0]["model"]["name"] == "blog" and "preview" not in lines[0]
    junk, blank = tmp_path / "junk.png", tmp_path / "blank.png"
    junk.write_bytes(b"not an image")
    Image.new("L", (64, 64), 255).save(blank)
    assert predict.main([str(junk), str(tmp_path / "missing.png"), str(blank), str(DIGIT), "--url", server.url]) == 1
    captured = capsys.readouterr()
    assert f"{junk}: not readable as an image" in captured.err and "(invalid_image)" in captured.err
    assert f"{blank}: nothing to read: the image is blank, or holds only specks (empty_image)" in captured.err
    assert "missing.png" in captured.err
    assert captured.out.count("\t7\t") == 1  # the good file is still read
    assert predict.main([str(DIGIT), "--url", f"http://127.0.0.1:{free_port()}"]) == 1
    assert "cannot reach" in capsys.readouterr().err


def test_every_verdict_is_said_in_words(server: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Drawn non-digits (the committed sample) and a digit: each line's words fit its verdict, and
    a drawing that is not a digit gets no digit and no unexplained number."""
    drawn = read_idx(DATA / "nondigits-sample-images-idx3-ubyte.gz")[:12]
    files = [DIGIT]
    for i, image in enumerate(drawn):
        files.append(tmp_path / f"drawn-{i}.png")
        Image.fromarray(255 - np.asarray(image)).resize((112, 112)).save(files[-1])  # dark ink on white
    assert predict.main([*map(str, files), "--url", server.url]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [row[0] for row in rows] == list(map(str, files))
    for _, digit, verdict, words in rows:
        assert re.fullmatch(IN_WORDS[verdict], words), words
        assert (digit == "-") == (verdict == "not_a_digit")
    assert sum(row[2] == "not_a_digit" for row in rows) >= 6, rows


@pytest.mark.parametrize("how", ["DIGITPAD_PORT", "DIGITPAD_URL"])
def test_the_server_is_found_where_digitpad_serve_was_told_to_listen(server: Served, how: str,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    if how == "DIGITPAD_PORT":
        monkeypatch.setenv("DIGITPAD_HOST", "0.0.0.0")  # where a server listens on every address: this machine too
        monkeypatch.setenv("DIGITPAD_PORT", str(server.port))
    else:
        monkeypatch.setenv("DIGITPAD_PORT", str(free_port()))  # the URL wins
        monkeypatch.setenv("DIGITPAD_URL", server.url + "/")
    assert predict.main([str(DIGIT)]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith(f"{DIGIT}\t7\t")


def test_a_port_that_does_not_parse_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DIGITPAD_PORT", "abc")
    assert predict.main([str(DIGIT)]) == 2
    assert capsys.readouterr().err == "digitpad-predict: DIGITPAD_PORT='abc': not a whole number\n"


def test_help_is_plain_text_and_names_the_server_it_would_call() -> None:
    env = {"PATH": "/usr/bin:/bin", "DIGITPAD_PORT": "8123"}
    out = subprocess.run([sys.executable, "-m", "scripts.predict", "--help"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert "``" not in out and "DIGITPAD_URL" in out
    assert "(now: http://127.0.0.1:8123)" in out
