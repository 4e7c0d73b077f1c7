"""Photos against issue 28's speed goals: the server's CPU per photo upload and its workers' peak
memory, beside a drawn digit's upload in the same run; and, with ``--stages``, where a photo's
milliseconds go in-process.

    python -m scripts.bench.photo                    # 1600×1200 and 4000×3000, 2 photos each, 5 rounds
    python -m scripts.bench.photo --stages           # also decode, looks_like_photo and photo_ink's stages
    python -m scripts.bench.photo --rounds 7 --photos 3 --requests 8 --burst 8

The goals (issue 28): a 1,600 × 1,200 JPEG photo answered in ≤ 80 ms of server CPU, a
4,000 × 3,000 one in ≤ 250 ms, and peak RSS within the hardening limits: 400 MB for one worker
(the bound the hostile-traffic tests hold a worker to, ``tests/server/test_hostile.py``) and the
Kubernetes limit of 512 MiB a pod (one worker a pod, ``deploy/kubernetes/deployment.yaml``).

The photos are ``scripts.datasets.make_photos``'s (``photo_at``: a digit for /api/predict/file, a
number for /api/read/file, exactly each size upright, seed 0, the generator's own conditions,
EXIF orientation included; MNIST's test sample shipped in tests/data), kept in
data/bench/photos/ once made (keyed by the generator's source). The baseline is a 280×280 canvas
PNG of a drawn 7 (``scripts.datasets.canvas.seven_png``), uploaded to the same route.

One real server (``scripts.harness.server.serving``: ``digitpad-serve`` on 127.0.0.1, the
shipped weights, default settings: one worker per core, one CPU thread each; only its database
is put in a temporary folder) takes the requests one at a time on one keep-alive connection. A
round sends, for each route and size, ``--requests`` photos, cycling through them, then as many
baseline PNGs (× ``BASELINE_SCALE``), alternated A, B; the figures are medians over the rounds.

CPU per request is the server's, from /proc: utime + stime of all its processes (the idle
supervisor, the workers, multiprocessing's resource tracker) over a block of requests ÷ the
requests, minus nothing. It holds everything a request costs the server: HTTP and multipart
parsing, the upload spooled, decoding (a JPEG reduced in its DCT), the photo pipeline, the
forward pass, the answer's JSON, the access log and metrics. /proc counts in clock ticks (10 ms):
a block is many ticks long. "in-process" is the route's own work (``predict_upload``,
``read_number``) in this process: the ceiling; eff. = that ÷ the server's.

Memory: each worker's resident set idle, then its peak (VmHWM; reset through
/proc/PID/clear_refs where the kernel allows) over the rounds (one request at a time), and over
a burst of ``--burst`` 4000×3000 uploads sent at once to each route (each worker's CPU thread
takes one at a time; the others wait, their bodies read, or are refused at once with 503
``overloaded`` when their wait would pass ``DIGITPAD_MAX_WAIT``)."""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import http.client
import io
import json
import os
import pstats
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

GOALS_MS = {(1600, 1200): 80.0, (4000, 3000): 250.0}
RSS_BOUNDS_MB = {"400 MB (one worker, tests/server/test_hostile.py)": 400.0,
                 "512 MiB (Kubernetes limit, one worker a pod)": 512 * 1.048576}
ROUTES = {"digits": "/api/predict/file", "numbers": "/api/read/file"}
BASELINE_SCALE = 10  # baseline requests per photo request in a block: about as long a block
SEED = 0


@dataclass
class Payload:
    """One route and what is sent to it: the photos of one size, or the baseline PNG."""

    label: str
    path: str
    bodies: list[bytes]  # image files, sent in turn
    kind: str  # digits or numbers: the route's
    size: tuple[int, int] | None  # None: the baseline
    cpu_ms: list[float] = field(default_factory=list)  # one per round
    statuses: Counter[str] = field(default_factory=Counter)


# ---- the images ----------------------------------------------------------------------------------

def cache_dir(root: Path) -> Path:
    """data/bench/photos/<the generator's source hash>: a changed generator makes new photos."""
    from scripts.datasets import make_photos
    digest = hashlib.sha256(Path(make_photos.__file__).read_bytes()).hexdigest()[:12]
    return root / "data" / "bench" / "photos" / digest


def photo_files(kind: str, size: tuple[int, int], count: int, cache: Path) -> list[bytes]:
    """``count`` JPEG photos of ``kind`` at exactly ``size`` (upright), made once and kept in ``cache``."""
    names = [cache / f"{kind}-{size[0]}x{size[1]}-seed{SEED}-{n}.jpg" for n in range(count)]
    missing = [n for n, p in enumerate(names) if not p.exists()]
    if missing:
        make_photo_files(kind, size, missing, names)
    return [p.read_bytes() for p in names]


def make_photo_files(kind: str, size: tuple[int, int], ns: list[int], names: list[Path]) -> None:
    """Photos ``ns`` of ``kind`` (``make_photos.photo_at``, MNIST's test sample) written as ``names[n]``."""
    import numpy as np

    from model.mnist import read_idx
    from scripts.datasets.make_photos import FONT_FOLDERS, font_files, photo_at, save_photo
    from scripts.harness.server import ROOT
    data = ROOT / "tests" / "data"
    X = read_idx(data / "t10k-sample-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) * np.float32(1 / 255)
    y = read_idx(data / "t10k-sample-labels-idx1-ubyte.gz")
    fonts = font_files(FONT_FOLDERS)
    names[0].parent.mkdir(parents=True, exist_ok=True)
    for n in ns:
        img, _, cond, _ = photo_at(kind, size, SEED, n, X, y, fonts)
        tmp = names[n].with_suffix(".tmp")
        save_photo(img, tmp, cond.jpeg, cond.exif)
        tmp.replace(names[n])


def describe(body: bytes) -> str:
    """A JPEG's stored size, EXIF orientation and bytes."""
    with Image.open(io.BytesIO(body)) as img:
        return f"{img.width}×{img.height} stored, EXIF {img.getexif().get(0x0112, 0)}, {len(body) / 1e6:.2f} MB"


def multipart(image: bytes, name: str) -> tuple[bytes, str]:
    """A form with one file field ``file``, as ``curl -F file=@name`` sends it: body and content type."""
    boundary = "digitpadbench" + hashlib.sha256(image).hexdigest()[:16]
    media = "image/jpeg" if name.endswith(".jpg") else "image/png"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: {media}\r\n\r\n").encode()
    return head + image + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def payloads(sizes: list[tuple[int, int]], count: int, cache: Path) -> list[tuple[Payload, Payload]]:
    """(baseline, photos) for each route and size: alternated in each round."""
    from scripts.datasets.canvas import seven_png
    png = seven_png()
    pairs = []
    for size in sizes:
        for kind, path in ROUTES.items():
            photos = photo_files(kind, size, count, cache)
            pairs.append((Payload(f"drawn 7, 280×280 PNG → {path}", path, [png], kind, None),
                          Payload(f"{kind[:-1]} photo {size[0]}×{size[1]} → {path}", path, photos, kind, size)))
    return pairs


# ---- the server ----------------------------------------------------------------------------------

def post(conn: http.client.HTTPConnection, path: str, image: bytes) -> str:
    """One upload on ``conn``; the answer's status and, for an error, its code."""
    body, ctype = multipart(image, "photo.jpg" if image[:2] == b"\xff\xd8" else "digit.png")
    conn.request("POST", path, body, {"Content-Type": ctype})
    r = conn.getresponse()
    answer = r.read()
    if r.status == 200:
        return "200"
    with contextlib.suppress(ValueError, KeyError, TypeError):
        return f"{r.status} {json.loads(answer)['code']}"
    return str(r.status)


def block(pid: int, conn: http.client.HTTPConnection, p: Payload, n: int) -> None:
    """``n`` requests of ``p``, one at a time: the server's CPU per request appended to ``p.cpu_ms``."""
    from scripts.bench.serving import tree_cpu
    before = tree_cpu(pid)
    for i in range(n):
        p.statuses[post(conn, p.path, p.bodies[i % len(p.bodies)])] += 1
    p.cpu_ms.append((tree_cpu(pid) - before) * 1000 / n)


def workers(pid: int) -> list[int]:
    """The server's worker processes (its descendants but multiprocessing's resource tracker)."""
    from scripts.harness.server import descendants
    found = []
    for child in descendants(pid):
        with contextlib.suppress(OSError):
            if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
    return found


def reset_peaks(pids: list[int]) -> bool:
    """Set each process's VmHWM back to its VmRSS (/proc/PID/clear_refs, "5"); whether it could."""
    try:
        for pid in pids:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def burst(url_port: int, path: str, image: bytes, n: int) -> Counter[str]:
    """``n`` uploads of ``image`` sent at once, each on its own connection; their statuses."""
    statuses: Counter[str] = Counter()
    lock = threading.Lock()

    def one() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", url_port, timeout=120)
        try:
            status = post(conn, path, image)
        finally:
            conn.close()
        with lock:
            statuses[status] += 1

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


# ---- in-process ----------------------------------------------------------------------------------

def route_work(kind: str) -> Callable[[bytes], object]:
    """What the route does with the file's bytes on its CPU thread, in this process."""
    from app.api.routes.predict import predict_upload
    from app.api.routes.read import read_number
    from app.imaging.decode import ImageLimits
    from app.imaging.errors import InputError
    from app.serving.executor import Job
    from app.serving.predictor import Predictor
    from scripts.harness.server import ROOT
    predictor, limits = Predictor.load(ROOT / "weights" / "digitpad.npz"), ImageLimits()

    def run(data: bytes) -> object:
        with contextlib.suppress(InputError):  # an error answer's work counts as the server's does
            if kind == "digits":
                return predict_upload(Job(), data, limits, predictor, True)
            return read_number(Job(), data, None, limits, predictor, True)
        return None
    return run


def cpu_ms(fn: Callable[[], object], repeats: int) -> float:
    """The median CPU (ms, this process) of one call, after one unmeasured call."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.process_time()
        fn()
        times.append((time.process_time() - t) * 1000)
    return statistics.median(times)


def in_process_ms(p: Payload, repeats: int) -> float:
    """The route's work on the payload's files in this process: the median over them, ms."""
    run = route_work(p.kind)
    return statistics.median(cpu_ms(lambda: run(body), repeats) for body in p.bodies)  # noqa: B023 (called at once)


def stages(bodies: list[bytes], repeats: int) -> tuple[list[tuple[str, float]], set[tuple[int, int]]]:
    """Where a photo's CPU goes in ``prepare_image`` (ms, medians over the photos): the decode, the
    check ``looks_like_photo``, ``photo_ink`` and all of the preparation; and the decoded sizes."""
    rows: dict[str, list[float]] = {}
    decoded = set()
    for body in bodies:
        found, size = photo_stages(body, repeats)
        for k, v in found.items():
            rows.setdefault(k, []).append(v)
        decoded.add(size)
    return [(k, statistics.median(v)) for k, v in rows.items()], decoded


def photo_stages(body: bytes, repeats: int) -> tuple[dict[str, float], tuple[int, int]]:
    from app.imaging.decode import ImageLimits, decode_image
    from app.imaging.photo import looks_like_photo, photo_ink
    from app.imaging.preprocess import prepare_decoded
    limits = ImageLimits()
    img = decode_image(body, limits)
    rgb = img.convert("RGB")
    return {"decode (JPEG reduced in its DCT, EXIF applied)": cpu_ms(lambda: decode_image(body, limits), repeats),
            "looks_like_photo": cpu_ms(lambda: looks_like_photo(rgb), repeats),
            "photo_ink": cpu_ms(lambda: quiet(photo_ink, rgb), repeats),
            "prepare_decoded (all of the preparation)": cpu_ms(lambda: quiet(prepare_decoded, img), repeats)}, img.size


def quiet(fn: Callable[[Image.Image], object], img: Image.Image) -> object:
    """``fn(img)``, or None when it raises an input error (an empty photo: the work still counts)."""
    from app.imaging.errors import InputError
    with contextlib.suppress(InputError):
        return fn(img)
    return None


def profile_photo_ink(bodies: list[bytes], repeats: int, top: int) -> tuple[list[tuple[str, float]], float]:
    """``photo_ink`` under cProfile (CPU clock), ``repeats`` times on each photo: the CPU (ms a
    photo) of each function it calls directly, by cumulative time, and of its own lines. The
    profiler's overhead inflates stages that make many Python calls."""
    from app.imaging import photo
    from app.imaging.decode import ImageLimits, decode_image
    imgs = [decode_image(b, ImageLimits()).convert("RGB") for b in bodies]
    prof = cProfile.Profile(time.process_time)
    for _ in range(repeats):
        for img in imgs:
            prof.runcall(quiet, photo.photo_ink, img)
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    runs = repeats * len(imgs)
    target = next(k for k in stats if k[2] == "photo_ink" and k[0].endswith("photo.py"))
    callees = [(func, callers[target][3]) for func, (*_, callers) in stats.items() if target in callers]
    callees.sort(key=lambda fc: -fc[1])
    own = stats[target][2]
    rows = [(name if path.endswith("photo.py") or path == "~" else f"{name} ({Path(path).name})", ct * 1000 / runs)
            for (path, _, name), ct in callees[:top]]
    rest = sum(ct for _, ct in callees[top:])
    if rest:
        rows.append((f"{len(callees) - top} other calls", rest * 1000 / runs))
    return [*rows, ("photo_ink's own lines", own * 1000 / runs)], stats[target][3] * 1000 / runs


# ---- printing ------------------------------------------------------------------------------------

def rss(pid: int, field_name: str) -> float:
    from scripts.harness.server import process_memory_mb
    return process_memory_mb(pid, field_name)


def print_cpu(pairs: list[tuple[Payload, Payload]], ceilings: dict[str, float]) -> None:
    print("\nCPU/req: the server's processes' utime + stime over a block ÷ its requests, minus nothing (HTTP, "
          "multipart, decode, photo path, forward pass, JSON, log, metrics), ms, median over the rounds (spread: "
          "min–max); in-proc: the route's work in this process; ÷ base: ÷ the drawn 7's CPU/req")
    print(f"{'payload':42s} {'CPU/req':>8} {'spread':>13} {'in-proc':>8} {'eff.':>5} {'÷ base':>7} "
          f"{'goal':>6} {'÷ goal':>6}  answers")
    for base, ph in pairs:
        for p in (base, ph):
            med = statistics.median(p.cpu_ms)
            spread = f"{min(p.cpu_ms):6.1f}–{max(p.cpu_ms):<6.1f}"
            ceiling = ceilings.get(p.label)
            eff = f"{ceiling / med:5.2f}" if ceiling else "    —"
            goal = GOALS_MS.get(p.size) if p.size else None
            ratio = f"{med / statistics.median(base.cpu_ms):7.1f}" if p is ph else "      —"
            g = f"{goal:6.0f} {med / goal:6.2f}" if goal else f"{'—':>6} {'—':>6}"
            answers = ", ".join(f"{k} ×{v}" for k, v in p.statuses.most_common())
            print(f"{p.label:42s} {med:8.1f} {spread:>13} {ceiling or 0:8.1f} {eff} {ratio} {g}  {answers}")


def print_memory(idle: dict[int, float], peaks: dict[str, dict[int, float]], reset: bool) -> None:
    print("\nmemory of each worker, MB: idle (VmRSS) → peak (VmHWM)" +
          ("" if reset else "; the peaks could not be reset, each is the peak since the worker started"))
    for phase, found in peaks.items():
        cells = ", ".join(f"{idle[pid]:.0f} → {peak:.0f}" for pid, peak in found.items())
        worst = max(found.values())
        verdict = "; ".join(f"{'within' if worst <= b else 'OVER'} {name}" for name, b in RSS_BOUNDS_MB.items())
        print(f"  {phase:54s} {cells}   ({verdict})")


def print_stages(size: tuple[int, int], found: tuple[list[tuple[str, float]], set[tuple[int, int]]],
                 profiled: list[tuple[str, float]], profiled_total: float, whole: float) -> None:
    rows, decoded = found
    print(f"\nwhere a {size[0]}×{size[1]} digit photo's CPU goes, in-process, ms (medians over the photos; "
          f"decoded to {', '.join(f'{w}×{h}' for w, h in sorted(decoded))}):")
    for name, ms in rows:
        print(f"  {name:50s} {ms:7.1f}")
    print(f"  {'the whole route (predict_upload)':50s} {whole:7.1f}")
    print(f"  photo_ink under cProfile (CPU clock; {profiled_total:.1f} ms a photo with the profiler's overhead), "
          "by what it calls:")
    for name, ms in profiled:
        print(f"    {name:60s} {ms:7.1f}")


# ---- main ----------------------------------------------------------------------------------------

@contextlib.contextmanager
def server(tmp: Path) -> Iterator[tuple[int, int]]:
    """The server's (supervisor pid, port): default settings, the database in ``tmp``."""
    from scripts.harness.server import ROOT, serving
    with serving(tmp, ROOT / "weights" / "digitpad.npz", workers=None,
                 database_url=f"sqlite:///{tmp}/feedback.db") as s:
        yield s.proc.pid, s.port


def measure(pairs: list[tuple[Payload, Payload]], args: argparse.Namespace, tmp: Path) -> None:
    with server(tmp) as (pid, port):
        procs = workers(pid)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for base, ph in pairs:  # warm-up: one of each, not counted
            post(conn, base.path, base.bodies[0])
            post(conn, ph.path, ph.bodies[0])
        idle = {p: rss(p, "VmRSS") for p in procs}
        reset = reset_peaks(procs)
        for _ in range(args.rounds):
            for base, ph in pairs:
                block(pid, conn, base, args.requests * BASELINE_SCALE)
                block(pid, conn, ph, args.requests)
        conn.close()
        peaks = {f"over the rounds, one request at a time ({len(procs)} workers)": {p: rss(p, "VmHWM") for p in procs}}
        big = [ph for _, ph in pairs if ph.size == max(GOALS_MS)]
        for ph in big:
            reset_peaks(procs)
            answers = burst(port, ph.path, ph.bodies[0], args.burst)
            key = f"burst of {args.burst} {ph.kind[:-1]} photos at once → {ph.path}"
            peaks[key] = {p: rss(p, "VmHWM") for p in procs}
            print(f"{key}: {', '.join(f'{k} ×{v}' for k, v in answers.items())}")
    print_memory(idle, peaks, reset)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="*", default=["1600x1200", "4000x3000"],
                        help="photo sizes, WxH, upright (default: 1600x1200 4000x3000)")
    parser.add_argument("--photos", type=int, default=2, help="photos per size and route (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=5, help="A, B rounds; medians over them (default: %(default)s)")
    parser.add_argument("--requests", type=int, default=6,
                        help=f"photo requests per block; the baseline's block has {BASELINE_SCALE}× as many "
                        "(default: %(default)s)")
    parser.add_argument("--burst", type=int, default=8, help="4000×3000 uploads sent at once (default: %(default)s)")
    parser.add_argument("--stages", action="store_true", help="also the in-process breakdown of a digit photo")
    parser.add_argument("--repeats", type=int, default=5, help="in-process runs per photo (default: %(default)s)")
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy is imported: as the server runs
    from scripts.harness.machine import cpu_name
    from scripts.harness.server import ROOT
    sizes = [tuple(int(v) for v in s.lower().replace("×", "x").split("x")) for s in args.sizes]
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"{cpu_name()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; tree {commit} "
          "(+ uncommitted changes if any)")
    t0 = time.monotonic()
    pairs = payloads(sizes, args.photos, cache_dir(ROOT))  # type: ignore[arg-type]
    print(f"photos ready in {time.monotonic() - t0:.0f} s ({cache_dir(ROOT).relative_to(ROOT)}):")
    for _, ph in pairs:
        print(f"  {ph.label}: " + "; ".join(describe(b) for b in ph.bodies))
    ceilings = {p.label: in_process_ms(p, args.repeats) for pair in pairs for p in pair}
    with tempfile.TemporaryDirectory() as tmp:
        measure(pairs, args, Path(tmp))
    print_cpu(pairs, ceilings)
    if args.stages:
        for _, ph in pairs:
            if ph.kind == "digits" and ph.size:
                rows = stages(ph.bodies, args.repeats)
                profiled, total = profile_photo_ink(ph.bodies, args.repeats, 10)
                print_stages(ph.size, rows, profiled, total, ceilings[ph.label])
    print(f"\n{time.monotonic() - t0:.0f} s in all; load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
