"""Fetch the four MNIST files and check them against the official SHA-256.

    python -m scripts.fetch_mnist                       # download into data/mnist
    python -m scripts.fetch_mnist --from ../shared/mnist  # copy from a local folder

Each file is tried from one public mirror after another until one gives bytes
whose decompressed SHA-256 matches the official hash; the verified file is
then written (gzip-compressed, as the mirrors serve it) into --dest. Files
already present and correct are left alone, so it is safe to re-run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from model.mnist import SHA256, IDXError, find, read_bytes
from scripts import project_root

ROOT = project_root()
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://yann.lecun.com/exdb/mnist/",
]


class FetchError(RuntimeError):
    pass


def verify(path: Path, stem: str) -> None:
    """Raise FetchError unless ``path`` decompresses to the official ``stem`` file."""
    try:
        digest = hashlib.sha256(read_bytes(path)).hexdigest()
    except IDXError as e:
        raise FetchError(str(e)) from None
    if digest != SHA256[stem]:
        raise FetchError(f"{path}: SHA-256 of the decompressed data is {digest}, expected {SHA256[stem]}")


def write_atomic(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def already_there(dest_dir: Path, stem: str) -> bool:
    try:
        verify(find(dest_dir, stem), stem)
        return True
    except (FileNotFoundError, FetchError):
        return False


def copy_local(source_dir: Path, dest_dir: Path, stem: str) -> Path:
    """Verify ``stem`` in ``source_dir`` and copy it into ``dest_dir``."""
    try:
        src = find(source_dir, stem)
    except FileNotFoundError as e:
        raise FetchError(str(e)) from None
    verify(src, stem)
    dest = dest_dir / src.name
    if src.resolve() != dest.resolve():
        write_atomic(dest, src.read_bytes())
    return dest


def download(dest_dir: Path, stem: str, mirrors: list[str], timeout: float = 60.0) -> Path:
    """Try each mirror in turn; keep the first file whose hash is right."""
    failures = []
    for mirror in mirrors:
        url = f"{mirror}{stem}.gz"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                data = response.read()
        except (urllib.error.URLError, OSError) as e:
            failures.append(f"{url}: {e}")
            continue
        dest = dest_dir / f"{stem}.gz"
        with tempfile.TemporaryDirectory() as tmp:
            candidate = Path(tmp) / f"{stem}.gz"
            candidate.write_bytes(data)
            try:
                verify(candidate, stem)
            except FetchError as e:
                failures.append(f"{url}: {e}")
                continue
        write_atomic(dest, data)
        return dest
    raise FetchError(f"could not fetch {stem}:\n  " + "\n  ".join(failures))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dest", type=Path, default=ROOT / "data" / "mnist", help="(default: %(default)s)")
    p.add_argument("--from", dest="source", type=Path, help="take the files from this local folder instead of the web")
    p.add_argument("--mirror", action="append", help="mirror URL ending in / (repeatable; default: the public mirrors)")
    args = p.parse_args(argv)
    try:
        for stem in SHA256:
            if already_there(args.dest, stem):
                print(f"ok       {stem} (already present and verified)")
                continue
            if args.source is not None:
                path = copy_local(args.source, args.dest, stem)
            else:
                path = download(args.dest, stem, args.mirror or MIRRORS)
            print(f"fetched  {path} (SHA-256 verified)")
    except FetchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
