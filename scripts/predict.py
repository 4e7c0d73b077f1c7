"""``digitpad-predict``: read digits from image files with a running digitpad server.

    digitpad-predict digit.png another.jpg                  # http://127.0.0.1:8000
    digitpad-predict --url http://digitpad.example:8000 --json scans/*.png
    digitpad-predict --model blog digit.png

One line per file: the file, the digit, the verdict and the confidence (or, with ``--json``, the
server's whole answer per file, one JSON object a line). Any error (a file that cannot be read,
an answer that is not 200, a server that cannot be reached) is said on stderr, the other files
are still read, and the exit code is 1; 0 when every file was read."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import httpx


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="digitpad-predict", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", type=Path, help="PNG, JPEG, WebP or GIF images")
    p.add_argument("--url", default="http://127.0.0.1:8000", help="the server (default: %(default)s)")
    p.add_argument("--model", help="which served model answers (default: the server's default)")
    p.add_argument("--json", action="store_true", help="print the server's answers as JSON lines")
    p.add_argument("--timeout", type=float, default=30, help="seconds per request (default: %(default)s)")
    args = p.parse_args(argv)
    failed = False
    params = {"preview": "false", **({"model": args.model} if args.model else {})}
    with httpx.Client(base_url=args.url.rstrip("/"), timeout=args.timeout) as client:
        for path in args.files:
            try:
                data = path.read_bytes()
                r = client.post("/api/predict/file", params=params, files={"file": (path.name, data)})
            except OSError as e:
                print(f"{path}: {e.strerror or e}", file=sys.stderr)
                failed = True
                continue
            except httpx.HTTPError as e:
                print(f"{path}: cannot reach {args.url}: {e}", file=sys.stderr)
                failed = True
                continue
            try:
                body = r.json()
            except ValueError:
                body = {"detail": r.text[:200]}
            if r.status_code != 200:
                print(f"{path}: {r.status_code} {body.get('code', '')}: {body.get('detail', '')}", file=sys.stderr)
                failed = True
            elif args.json:
                print(json.dumps({"file": str(path), **body}))
            else:
                shown = "-" if body["verdict"] == "not_a_digit" else str(body["digit"])
                print(f"{path}\t{shown}\t{body['verdict']}\t{body['confidence']:.3f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
