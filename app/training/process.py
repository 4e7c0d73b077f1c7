"""The training process: one live run, as its own program.

    python -m app.training.process <run folder>
    python -m app.training.process --data <cache folder> mnist|subset <MNIST folder or "">

The second form only writes the training images' cache (model/livedata.py), which every worker
asks for when it starts, so that even the first run finds it.

A server worker starts it (``app.training.runs``) holding the run's slot and alive locks, and
never imports it: this is the one module of ``app/`` that runs training code (``model/live.py``,
through ``app.training.loop``), in a process of its own, so a run never holds a worker's
interpreter, and ends, crashes or runs out of memory alone. It lowers its own priority before
anything else, so that the workers' predictions come first, and runs with one BLAS thread (its
environment says so, before numpy is loaded)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

NICE = 10  # a niced process gets a tenth of a core that a worker also wants (CFS weights 110 against 1024)


def main(argv: list[str]) -> int:
    os.nice(NICE)
    if len(argv) == 5 and argv[1] == "--data":  # --data <cache folder> mnist|subset <MNIST folder or "">
        from model.livedata import cached

        cached("mnist" if argv[3] == "mnist" else "subset", Path(argv[4]) if argv[4] else None, Path(argv[2]))
        return 0
    from app.training.loop import Loop  # numpy and the model: imported at the lower priority

    if len(argv) != 2 or not Path(argv[1]).is_dir():
        print("usage: python -m app.training.process <run folder>", file=sys.stderr)
        return 2
    return Loop(Path(argv[1])).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
