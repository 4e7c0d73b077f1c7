"""digitpad-predict: read digits from image files with a running digitpad server.

    digitpad-predict digit.png another.jpg              # the server on http://127.0.0.1:8000
    DIGITPAD_PORT=8080 digitpad-predict digit.png       # the one started with DIGITPAD_PORT=8080
    digitpad-predict --url http://digitpad.example:8000 --json scans/*.png
    digitpad-predict --model blog digit.png

The server: --url, else DIGITPAD_URL, else http://DIGITPAD_HOST:DIGITPAD_PORT (the variables
digitpad-serve listens on; 127.0.0.1 and 8000 when unset).

One line per file, tab-separated: the file, the digit (- when it is not a digit), the verdict
(digit, unsure or not_a_digit) and what it means, in words:

    digit.png   7   digit         a 7, over 99.9% sure
    one.png     1   unsure        not sure: a 1 (55.0%) or a 7 (40.2%)
    blot.png    -   not_a_digit   does not look like a digit, so no digit is read

With --json, the server's whole answer per file, one JSON object a line. Anything that stops a
file being read (a file that cannot be opened, a blank image, a server that cannot be reached or
that refuses it) is said on stderr and the other files are still read; the exit code is then 1,
else 0."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.settings import Settings, SettingsProblem, read_settings

# The server's error codes that say something about the image rather than the request, in words.
PLAIN = {"empty_image": "nothing to read: the image is blank, or holds only specks",
         "invalid_image": "not readable as an image (damaged, truncated, or not a PNG, JPEG, WebP or GIF)"}


class Where(BaseSettings):
    """Where the server is: DIGITPAD_URL, else the address digitpad-serve listens on."""

    model_config = SettingsConfigDict(env_prefix="DIGITPAD_", frozen=True)

    url: str | None = None
    host: str = Settings.model_fields["host"].default
    port: int = Field(default=Settings.model_fields["port"].default, ge=1, le=65535)

    def base_url(self) -> str:
        if self.url:
            return self.url.rstrip("/")
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)  # listen-all → here
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"


def percent(p: float) -> str:
    return "over 99.9%" if p > 0.999 else f"{p:.1%}"


def a(digit: int) -> str:
    return f"an {digit}" if digit == 8 else f"a {digit}"


def in_words(answer: dict[str, Any]) -> str:
    """What an answer of /api/predict means, for a person."""
    if answer["verdict"] == "not_a_digit":
        return "does not look like a digit, so no digit is read"
    if answer["verdict"] == "unsure":
        choices = [f"{a(alt['digit'])} ({percent(alt['probability'])})" for alt in answer["alternatives"]]
        return "not sure: " + " or ".join(choices)
    return f"{a(answer['digit'])}, {percent(answer['confidence'])} sure"


def line(path: Path, answer: dict[str, Any]) -> str:
    digit = "-" if answer["verdict"] == "not_a_digit" else str(answer["digit"])
    return f"{path}\t{digit}\t{answer['verdict']}\t{in_words(answer)}"


def parser(default_url: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="digitpad-predict", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", type=Path, help="PNG, JPEG, WebP or GIF images")
    p.add_argument("--url", default=default_url, help="the server (now: %(default)s)")
    p.add_argument("--model", help="which served model answers (default: the server's default)")
    p.add_argument("--json", action="store_true", help="print the server's answers as JSON lines")
    p.add_argument("--timeout", type=float, default=30, help="seconds per request (default: %(default)s)")
    return p


def read_one(client: httpx.Client, path: Path, params: dict[str, str], as_json: bool) -> bool:
    """Print what the server reads in ``path`` (stdout), or why it could not (stderr); whether it was read."""
    try:
        r = client.post("/api/predict/file", params=params, files={"file": (path.name, path.read_bytes())})
    except OSError as e:
        print(f"{path}: {e.strerror or e}", file=sys.stderr)
        return False
    except httpx.HTTPError as e:
        print(f"{path}: cannot reach {client.base_url}: {e}", file=sys.stderr)
        return False
    try:
        body = r.json()
    except ValueError:
        body = {"detail": r.text[:200]}
    if r.status_code != 200:
        code = body.get("code", f"HTTP {r.status_code}")
        print(f"{path}: {PLAIN.get(code, body.get('detail', ''))} ({code})", file=sys.stderr)
        return False
    print(json.dumps({"file": str(path), **body}) if as_json else line(path, body))
    return True


def main(argv: list[str] | None = None) -> int:
    try:
        where = read_settings(Where)
    except SettingsProblem as e:
        print("\n".join(f"digitpad-predict: {problem}" for problem in e.lines), file=sys.stderr)
        return 2
    args = parser(where.base_url()).parse_args(argv)
    params = {"preview": "false", **({"model": args.model} if args.model else {})}
    with httpx.Client(base_url=args.url.rstrip("/"), timeout=args.timeout) as client:
        read = [read_one(client, path, params, args.json) for path in args.files]
    return 0 if all(read) else 1


if __name__ == "__main__":
    sys.exit(main())
