"""``digitpad-feedback``: the users' corrections, offline.

    digitpad-feedback stats                          # how many, per label and per model version
    digitpad-feedback export DIR                     # → DIR/feedback-images-idx3-ubyte, DIR/feedback-labels-idx1-ubyte
    digitpad-feedback purge --before 2026-01-01      # delete corrections made before that date (UTC)

The database is ``DIGITPAD_DATABASE_URL``'s (as the server's; default sqlite:///data/digitpad.db)
unless ``--database`` names another. The export is MNIST's own IDX format, readable by
``model.mnist.read_idx`` and any MNIST loader: images are the 28×28 inputs the network saw,
0–255, white ink on black; labels are 0–9, and **10 means "not a digit"**."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from app.settings import Settings
from app.storage import feedback as store
from app.storage.database import StorageError, open_database
from model.mnist import idx_bytes

IMAGES, LABELS = "feedback-images-idx3-ubyte", "feedback-labels-idx1-ubyte"


def _date(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD, or an ISO date and time)") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="digitpad-feedback", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database", help="a database URL (default: DIGITPAD_DATABASE_URL, as the server)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("stats", help="counts per label and per model version, as JSON")
    export = sub.add_parser("export", help="write the corrections as IDX files")
    export.add_argument("dir", type=Path)
    purge = sub.add_parser("purge", help="delete corrections made before a date")
    purge.add_argument("--before", type=_date, required=True, help="YYYY-MM-DD (UTC) or an ISO date and time")
    args = p.parse_args(argv)
    try:
        db = open_database(args.database or Settings().database_url)
    except StorageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        if args.command == "stats":
            print(json.dumps(store.summary(db), indent=2))
        elif args.command == "export":
            images, labels = store.load(db)
            if len(labels) == 0:
                print("no corrections to export", file=sys.stderr)
                return 1
            args.dir.mkdir(parents=True, exist_ok=True)
            (args.dir / IMAGES).write_bytes(idx_bytes(images))
            (args.dir / LABELS).write_bytes(idx_bytes(labels))
            print(f"wrote {len(labels)} corrections to {args.dir / IMAGES} and {args.dir / LABELS} "
                  "(label 10: not a digit)")
        else:
            print(f"deleted {store.purge(db, args.before)} corrections made before {args.before.isoformat()}")
    finally:
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
