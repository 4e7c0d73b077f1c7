"""Vendor the API docs' front-ends from npm, pinned: Swagger UI and ReDoc, served by the app
itself so ``/docs`` and ``/redoc`` work without internet.

    python -m scripts.vendor_docs            # → static/vendor/ (and static/vendor/VERSIONS.json)
    python -m scripts.vendor_docs --check    # the committed files match VERSIONS.json's checksums

Runs ``npm pack`` for the pinned versions into a temporary folder (the npm registry is the one
outside source), copies the few files the pages load, and records each package's version and
integrity (from npm) and each copied file's SHA-256 in ``VERSIONS.json``. The copies are
committed; a test checks them against that record."""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from scripts import project_root

PACKAGES = {  # package → (version, files to copy from its package/ folder)
    "swagger-ui-dist": ("5.35.0", ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"]),
    "redoc": ("2.5.4", ["bundles/redoc.standalone.js", "LICENSE"]),
}
VENDOR = project_root() / "static" / "vendor"
RECORD = VENDOR / "VERSIONS.json"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch() -> dict[str, object]:
    record: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (version, files) in PACKAGES.items():
            out = subprocess.run(["npm", "pack", f"{name}@{version}", "--json", "--pack-destination", tmp],
                                 capture_output=True, text=True, check=True, cwd=tmp)
            info = json.loads(out.stdout)[0]
            with tarfile.open(Path(tmp) / info["filename"]) as tar:
                tar.extractall(Path(tmp) / name, filter="data")
            target = VENDOR / name
            target.mkdir(parents=True, exist_ok=True)
            copied = {}
            for f in files:
                source = Path(tmp) / name / "package" / f
                dest = target / Path(f).name
                dest.write_bytes(source.read_bytes())
                copied[dest.name] = sha256(dest)
            record[name] = {"version": version, "integrity": info["integrity"], "files": copied}
    return record


def check() -> list[str]:
    """What differs between static/vendor and VERSIONS.json (empty: nothing)."""
    record = json.loads(RECORD.read_text())
    problems = []
    for name, (version, files) in PACKAGES.items():
        entry = record.get(name, {})
        if entry.get("version") != version:
            problems.append(f"{name}: VERSIONS.json has {entry.get('version')}, the script pins {version}")
        for f in files:
            path = VENDOR / name / Path(f).name
            if not path.exists() or sha256(path) != entry.get("files", {}).get(path.name):
                problems.append(f"{path}: missing or not the recorded file")
    return problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true", help="only check the committed files")
    args = p.parse_args(argv)
    if args.check:
        problems = check()
        print("\n".join(problems) or "static/vendor matches VERSIONS.json")
        return 1 if problems else 0
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    RECORD.write_text(json.dumps(fetch(), indent=2) + "\n")
    print(f"vendored {', '.join(f'{n} {v}' for n, (v, _) in PACKAGES.items())} into {VENDOR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
