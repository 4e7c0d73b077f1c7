"""The IDX reader, the fetch step's hash check, and the committed test sample."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from model import mnist
from scripts import fetch_mnist
from tests.paths import DATA


def idx(dims: list[int], payload: bytes, ndim_byte: int | None = None, dtype_byte: int = 0x08) -> bytes:
    header = bytes([0, 0, dtype_byte, len(dims) if ndim_byte is None else ndim_byte])
    return header + b"".join(d.to_bytes(4, "big") for d in dims) + payload


def test_reads_raw_and_gzip_alike(tmp_path: Path) -> None:
    data = idx([2, 28, 28], bytes(range(256)) * 6 + bytes(32))
    (tmp_path / "raw").write_bytes(data)
    (tmp_path / "packed.gz").write_bytes(gzip.compress(data))
    a, b = mnist.read_idx(tmp_path / "raw"), mnist.read_idx(tmp_path / "packed.gz")
    assert a.shape == (2, 28, 28) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert mnist.parse_idx(idx([3], b"\x01\x02\x03")).tolist() == [1, 2, 3]


@pytest.mark.parametrize("data,message", [
    (b"\x00\x00\x08", "too short"),
    (idx([3], b"\x01\x02\x03", dtype_byte=0x0D), "bad magic number"),
    (b"\x01" + idx([3], b"\x01\x02\x03")[1:], "bad magic number"),
    (idx([3], b"\x01\x02\x03", ndim_byte=2), "bad magic number"),
    (idx([1, 28, 27], bytes(28 * 27)), "27, expected 28×28"),
    (idx([2, 28, 28], bytes(784)), "need 1568 bytes of data, found 784"),
    (idx([3], b"\x01\x02"), "truncated or inconsistent"),
    (idx([2], b"\x01\x02\x03"), "truncated or inconsistent"),
    (idx([0], b""), "holds no items"),
    (idx([5, 28, 28], b"")[:10], "truncated header"),
])
def test_rejects_malformed_idx(data: bytes, message: str) -> None:
    with pytest.raises(mnist.IDXError, match=message):
        mnist.parse_idx(data)


def test_rejects_damaged_gzip(tmp_path: Path) -> None:
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx([3], b"\x01\x02\x03"))[:-6])
    with pytest.raises(mnist.IDXError, match="damaged gzip"):
        mnist.read_idx(path)


def _fake_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of four small valid IDX files, with the official hashes patched to theirs."""
    src = tmp_path / "src"
    src.mkdir()
    hashes = {}
    for i, stem in enumerate(mnist.SHA256):
        data = idx([4, 28, 28], bytes([i]) * 4 * 784) if "images" in stem else idx([4], bytes([i]) * 4)
        (src / f"{stem}.gz").write_bytes(gzip.compress(data))
        hashes[stem] = hashlib.sha256(data).hexdigest()
    monkeypatch.setattr(mnist, "SHA256", hashes)
    monkeypatch.setattr(fetch_mnist, "SHA256", hashes)
    return src


def test_fetch_from_a_local_folder_verifies_and_copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    src = _fake_source(tmp_path, monkeypatch)
    dest = tmp_path / "dest"
    assert fetch_mnist.main(["--from", str(src), "--dest", str(dest)]) == 0
    assert sorted(p.name for p in dest.iterdir()) == sorted(f"{s}.gz" for s in mnist.SHA256)
    assert fetch_mnist.main(["--from", str(src), "--dest", str(dest)]) == 0  # safe to re-run
    assert capsys.readouterr().out.count("already present and verified") == 4


def test_fetch_rejects_a_file_whose_hash_differs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    src = _fake_source(tmp_path, monkeypatch)
    tampered = src / "t10k-labels-idx1-ubyte.gz"
    tampered.write_bytes(gzip.compress(idx([4], b"\x09\x09\x09\x08")))
    dest = tmp_path / "dest"
    assert fetch_mnist.main(["--from", str(src), "--dest", str(dest)]) == 1
    err = capsys.readouterr().err
    assert "t10k-labels-idx1-ubyte.gz: SHA-256 of the decompressed data is" in err
    assert not (dest / "t10k-labels-idx1-ubyte.gz").exists()


def test_fetch_falls_back_to_the_next_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Mirrors as local file:// folders: the first serves a wrong file, the second the right one."""
    good = _fake_source(tmp_path, monkeypatch)
    bad = tmp_path / "bad"
    bad.mkdir()
    for p in good.iterdir():
        (bad / p.name).write_bytes(gzip.compress(b"not mnist"))
    dest = tmp_path / "dest"
    mirrors = ["--mirror", bad.as_uri() + "/", "--mirror", (tmp_path / "absent").as_uri() + "/",
               "--mirror", good.as_uri() + "/"]
    assert fetch_mnist.main(["--dest", str(dest), *mirrors]) == 0
    for stem in mnist.SHA256:
        fetch_mnist.verify(dest / f"{stem}.gz", stem)


def test_load_split_checks_the_official_hashes(tmp_path: Path) -> None:
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx([1, 28, 28], bytes(784)))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx([1], b"\x03"))
    with pytest.raises(mnist.IDXError, match="differs from the official"):
        mnist.load_split(tmp_path, "t10k")


def test_the_committed_sample_is_real_mnist() -> None:
    images = mnist.read_idx(DATA / "t10k-sample-images-idx3-ubyte.gz")
    labels = mnist.read_idx(DATA / "t10k-sample-labels-idx1-ubyte.gz")
    assert images.shape == (1000, 28, 28) and labels.shape == (1000,)
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]  # the famous first test digits
    assert set(np.unique(labels)) == set(range(10))
