"""From a network's probabilities to an honest answer: a digit, "not sure", or "not a digit".

A network with an 11th output ("not a digit", label 10) gives P: (m, 11). ``split`` turns
that into the probabilities of the ten digits given that it is a digit (rows summing to 1,
what clients have always received) and the probability that it is not a digit. A
10-output network has no such probability (0). ``verdicts`` applies the thresholds that
``choose_thresholds`` picked on the validation split:

* ``not_a_digit`` when P(not a digit) ≥ ``reject``;
* ``digit`` when the most likely digit has probability ≥ ``sure``;
* otherwise ``unsure``, with the digits of probability ≥ ``ALTERNATIVE`` (two or three) as
  the alternatives."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]
ALTERNATIVE = 0.1     # a digit this likely is worth naming when the answer is "not sure"
MAX_DIGITS_REJECTED = 0.003  # on the validation digits, when choosing `reject`
MAX_SURE_ERRORS = 0.002      # errors among confident answers on the validation digits, when choosing `sure`
DEFAULT = {"reject": 0.5, "sure": 0.9}
# Within a number (``POST /api/read``) a piece is far likelier to be a digit than a lone drawing
# is, so it takes stronger evidence to call it none. ``python -m scripts.evaluate`` prints the
# share of held-out drawn non-digits turned away at this threshold beside the model's own
# (docs/model-card.md records both).
IN_A_NUMBER_REJECT = 0.95


def in_a_number(thresholds: dict[str, float]) -> dict[str, float]:
    """The thresholds for a piece of a number: ``reject`` raised to IN_A_NUMBER_REJECT."""
    return {**thresholds, "reject": max(thresholds["reject"], IN_A_NUMBER_REJECT)}


def split(P: Array) -> tuple[Array, Array]:
    """P: (m, 10 or 11) → digit probabilities (m, 10) summing to 1, and P(not a digit) (m,)."""
    if P.shape[1] == 10:
        return P, np.zeros(P.shape[0], dtype=P.dtype)
    none = P[:, 10]
    digits = P[:, :10] / np.maximum(P[:, :10].sum(axis=1, keepdims=True), 1e-30)
    return digits, none


def verdict(digits: Array, none: float, thresholds: dict[str, float]) -> tuple[str, list[tuple[int, float]]]:
    """One example's verdict and, when unsure, its alternatives (digit, probability), likeliest first."""
    if none >= thresholds["reject"]:
        return "not_a_digit", []
    if float(digits.max()) >= thresholds["sure"]:
        return "digit", []
    order = np.argsort(-digits)[:3]
    named = [d for d in order if digits[d] >= ALTERNATIVE]
    return "unsure", [(int(d), float(digits[d])) for d in (named if len(named) >= 2 else order[:2])]


def choose_thresholds(P: Array, y: NDArray[np.integer[Any]]) -> dict[str, Any]:
    """Thresholds from validation probabilities P (m, 11) and labels y (10 = not a digit), and
    the operating point they give on that split."""
    digits, none = split(P)
    is_digit = y != 10
    # the lowest `reject` that turns away at most MAX_DIGITS_REJECTED of the real digits
    reject = float(np.quantile(none[is_digit], 1.0 - MAX_DIGITS_REJECTED)) if is_digit.any() else 0.5
    reject = min(max(reject, 0.05), 0.95)
    kept = is_digit & (none < reject)
    conf, right = digits[kept].max(axis=1), digits[kept].argmax(axis=1) == y[kept]
    sure = 0.99
    for t in np.arange(0.5, 0.995, 0.01):  # the lowest `sure` whose confident answers are nearly all right
        confident = conf >= t
        if confident.any() and 1.0 - right[confident].mean() <= MAX_SURE_ERRORS:
            sure = float(round(t, 2))
            break
    thresholds = {"reject": round(reject, 4), "sure": sure}
    return {**thresholds, "alternative": ALTERNATIVE, "validation": operating_point(P, y, thresholds)}


def operating_point(P: Array, y: NDArray[np.integer[Any]], thresholds: dict[str, float]) -> dict[str, float | int]:
    """What the thresholds do on labelled data: shares of digits rejected and unsure, accuracy of
    the confident answers, share of non-digits rejected."""
    digits, none = split(P)
    is_digit = y != 10
    rejected = none >= thresholds["reject"]
    confident = ~rejected & (digits.max(axis=1) >= thresholds["sure"])
    out: dict[str, float | int] = {"digits": int(is_digit.sum()), "non_digits": int((~is_digit).sum())}
    if is_digit.any():
        d, sure = is_digit, is_digit & confident
        out["digits_rejected"] = float(rejected[d].mean())
        out["digits_unsure"] = float((~rejected & ~confident)[d].mean())
        out["confident_accuracy"] = float((digits[sure].argmax(axis=1) == y[sure]).mean()) if sure.any() else 0.0
        out["accuracy"] = float((digits[d].argmax(axis=1) == y[d]).mean())
    if (~is_digit).any():
        out["non_digits_rejected"] = float(rejected[~is_digit].mean())
    return out
