"""The imaging path's cost model: what each costly stage will cost, counted before it is paid.

Every stage's cost is bounded by something counted just before it, and a drawing whose count is
over its limit is refused (``TooComplex``, 422 ``too_complex``) before the stage runs, so a small
file can never buy seconds of work:

- ``ink_runs``: the runs of ink along the rows (``components.runs``, one numpy pass over the
  pixels). Labelling the components, finding the holes and filling outlines cost in proportion.
- ``ink_pixels``: the pixels of ink, outlined strokes once filled: the pieces' pixels are listed,
  cut and drawn in numpy passes over them.
- ``pieces``: the separate pieces of ink (8-connected components), each handled in Python a few
  times (its pixels, its size, specks gathered into strokes).
- ``hull_runs``: the runs of the long holes whose convex hulls are taken, corner by corner, in
  Python (``outlines.fill_outlines``).
- ``cut_work``: the cuts tried through wide pieces times those pieces' ink pixels (each cut is a
  pass over its piece's pixels, ``segment.atoms``).
- ``candidate_pixels``: the pixels of the boxes of every candidate digit drawn and fitted to
  28×28 (``segment.segment``; the network's batch is bounded by ``segment.MAX_ATOMS``).

The defaults are the largest counts seen on the drawn test sets (``python -m
scripts.bench.budget``) times a wide margin; ``DIGITPAD_MAX_WORK`` scales them all. The counting
object also carries the job's cancellation check, so the long loops stop soon after a client
hangs up. No web framework here: ``check`` is any callable that raises to stop."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from app.imaging.errors import TooComplex


@dataclass(frozen=True)
class Budget:
    """The most of each count one drawing may reach (see the module)."""

    ink_runs: int = 60_000
    ink_pixels: int = 600_000
    pieces: int = 2_000
    hull_runs: int = 8_000
    cut_work: int = 3_000_000
    candidate_pixels: int = 12_000_000

    def scaled(self, factor: float) -> Budget:
        """Every limit times ``factor`` (``DIGITPAD_MAX_WORK``)."""
        return Budget(**{f.name: max(1, round(getattr(self, f.name) * factor)) for f in dataclasses.fields(self)})


WHY = {  # what was too much, in the user's words
    "ink_runs": "The drawing has {n:,} separate specks or stretches of ink along its rows; a drawing may "
                "have at most {limit:,}. Draw with fewer, more solid strokes.",
    "ink_pixels": "The drawing has {n:,} pixels of ink; a drawing may have at most {limit:,}. Draw with a "
                  "thinner pen, or on a smaller canvas.",
    "pieces": "The drawing has {n:,} separate specks or pieces; a drawing may have at most {limit:,}.",
    "hull_runs": "The drawing encloses long, narrow spaces {n:,} rows long in all; a drawing may enclose at "
                 "most {limit:,}.",
    "cut_work": "The drawing has pieces so wide for their height that cutting them into digits would take "
                "{n:,} steps; a drawing may take at most {limit:,}.",
    "candidate_pixels": "Reading the drawing would mean fitting {n:,} pixels of candidate digits; a drawing "
                        "may need at most {limit:,}.",
}


def _never() -> None:
    return None


@dataclass
class Work:
    """One drawing's counts, each checked against ``budget`` before the stage it bounds, and the
    job's ``check`` (raises to stop the work: its client has gone). ``counts`` keeps the largest
    of each count seen, for the benchmark that sets the defaults. The drawings of one request share
    the budget: ``spent`` holds what the ones before this one counted (``Work.after``)."""

    budget: Budget = field(default_factory=Budget)
    check: Callable[[], None] = _never
    counts: dict[str, int] = field(default_factory=dict)
    spent: dict[str, int] = field(default_factory=dict)

    def count(self, what: str, n: int) -> None:
        """Record ``n`` of ``what`` (a ``Budget`` field); raise TooComplex if it is over the limit."""
        self.check()
        self.counts[what] = max(n, self.counts.get(what, 0))
        limit, before = getattr(self.budget, what), self.spent.get(what, 0)
        if before + n > limit:
            why = WHY[what].format(n=before + n, limit=limit)
            if before:  # a batch's drawings, together
                why = why.replace("The drawing has", "The batch's drawings have, together,").replace(
                    "a drawing may", "a batch may")
            raise TooComplex(why)

    def after(self) -> Work:
        """The counting for the next drawing of the same request: what this one spent is spent. A
        count that was refused bought no work (its stage did not run), so it is not spent: a batch
        answering each drawing's error in its place goes on with the budget that is really left."""
        spent = dict(self.spent)
        for what, n in self.counts.items():
            if spent.get(what, 0) + n <= getattr(self.budget, what):
                spent[what] = spent.get(what, 0) + n
        return Work(self.budget, self.check, spent=spent)
