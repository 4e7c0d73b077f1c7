"""The API's request and response bodies, with the examples shown in /docs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, model_validator
from pydantic.json_schema import SkipJsonSchema

from app.api.examples import IMAGE_7, PIXELS_2
from app.imaging.preprocess import Source

Number = Annotated[float, Strict()]  # a JSON number: strings and booleans are refused
FailFast = Field(fail_fast=True)  # a list's validation stops at its first bad item: one error, not one per item
_UNIT = {"type": "number", "minimum": 0, "maximum": 1}
# The shape and range are checked by the code (code `invalid_pixels`, with a hint); the
# schema states them for clients and fuzzers.
_PIXELS_SCHEMA: Any = {"oneOf": [
    {"type": "array", "items": _UNIT, "minItems": 784, "maxItems": 784},
    {"type": "array", "minItems": 28, "maxItems": 28,
     "items": {"type": "array", "items": _UNIT, "minItems": 28, "maxItems": 28}}]}
_BOX = ("x, y, width and height of the ink read, in the pixels of the image sent as a browser shows it: upright by "
        "its EXIF orientation, at full resolution (a large image is read reduced; the box is scaled back).")
_EXAMPLES: Any = [{"image": IMAGE_7}, {"pixels": PIXELS_2}]


def _as_array(values: list[Any]) -> Any:
    """Valid numbers as one float64 array, made on the CPU thread that validates them: an array
    costs nothing to free later, on the event loop, where a list of 200k floats costs milliseconds.
    Rows of different lengths stay a list, for ``prepare_pixels`` to name the problem."""
    try:
        return np.asarray(values, dtype=np.float64)
    except ValueError:
        return values


Pixels = Annotated[Annotated[list[Number], FailFast] | Annotated[list[Annotated[list[Number], FailFast]], FailFast],
                   AfterValidator(_as_array)]


def _one_of(schema: dict[str, Any]) -> None:
    schema["oneOf"] = [{"required": ["image"]}, {"required": ["pixels"]}]
    schema["examples"] = _EXAMPLES


class Drawing(BaseModel):
    """Exactly one of ``image`` or ``pixels``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_of)

    image: str | SkipJsonSchema[None] = Field(
        None, json_schema_extra={"minLength": 1},
        description="A data URL (data:image/png;base64,…) or bare base64 of a PNG, JPEG, WebP or GIF "
        "drawing, dark on light, light on dark, coloured or on transparency, within the size limits "
        "(DIGITPAD_MAX_SIDE, DIGITPAD_MAX_PIXELS; see docs/api.md).")
    pixels: Pixels | SkipJsonSchema[None] = Field(
        None, json_schema_extra=_PIXELS_SCHEMA,
        description="An already prepared MNIST-style input: 28 lists of 28 numbers or a flat list "
        "of 784, in [0, 1], white ink (1) on black (0). Its strongest pixel must reach 0.1, or it is "
        "`empty_image`.")

    source: Source = Field(
        "auto", description="What the image is: `auto` (the default) decides, taking an opaque image whose paper "
        "is uneven or noisy round its edge for a photo or a scan; `photo` reads it as a photo of writing on paper "
        "(the paper's light taken out, ruled lines and the table left out); `drawing` as a clean drawing, whatever "
        "its edge. Ignored for `pixels`.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Drawing:
        given = [name for name in ("image", "pixels") if getattr(self, name) is not None]
        if len(given) != 1 or len(self.model_fields_set & {"image", "pixels"}) != 1:
            raise ValueError("give exactly one of 'image' or 'pixels'")
        return self


ModelName = Annotated[str, Field(min_length=1, max_length=64, examples=["digitpad"])]
MODEL_FIELD = Field(None, description="Which served model answers (GET /api/models); the default one when left out.")


class PredictRequest(Drawing):
    """Exactly one of ``image`` or ``pixels``, and which model answers."""

    model: ModelName | SkipJsonSchema[None] = MODEL_FIELD


Label = Annotated[int, Strict(), Field(ge=0, le=9)] | Literal["not_a_digit"]


def _feedback_schema(schema: dict[str, Any]) -> None:
    schema["oneOf"] = [{"required": ["image", "label"]}, {"required": ["pixels", "label"]}]
    schema["examples"] = [{"pixels": PIXELS_2, "label": 2, "predicted": 7}]


class FeedbackRequest(Drawing):
    """A correction: the drawing (best: the 28×28 ``preview`` the answer came with, as ``pixels``),
    what it really is, and what the model had said."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_feedback_schema)

    label: Label = Field(description="What the drawing really is: 0–9, or \"not_a_digit\".")
    predicted: Label | None = Field(None, description="What the model had answered (null: not known).")
    model_version: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")] | None = Field(
        None, description="The `version` of the model that answered (GET /api/model): one this server serves "
        "or has served since it started, else 422 unknown_model_version.")


class FeedbackSaved(BaseModel):
    id: int = Field(description="The correction's id.", examples=[42])


class ModelAgreement(BaseModel):
    version: str | None = Field(description="A model version (null: corrections sent without one).")
    corrections: int
    agreed: int = Field(description="Corrections whose label is what this model had answered.")
    agreement: float = Field(ge=0, le=1, description="agreed / corrections.")


class FeedbackSummary(BaseModel):
    total: int
    labels: dict[str, int] = Field(description="Corrections per label: \"0\"…\"9\" and \"not_a_digit\".")
    models: list[ModelAgreement]


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"inputs": _EXAMPLES}]})

    inputs: list[Drawing] = Field(
        fail_fast=True, description="Bodies as for /api/predict (without `model`), answered in order: at most "
        "DIGITPAD_MAX_BATCH of them, and at most DIGITPAD_MAX_BATCH_PIXELS image pixels in all.")
    model: ModelName | SkipJsonSchema[None] = MODEL_FIELD


class ModelRef(BaseModel):
    name: str = Field(examples=["digitpad"])
    version: str = Field(description="First 12 hex digits of the weights file's SHA-256.",
                         examples=["3f9a0c1d2b7e"])


class Alternative(BaseModel):
    digit: int = Field(ge=0, le=9, examples=[1])
    probability: float = Field(ge=0, le=1, examples=[0.55])


class Prediction(BaseModel):
    digit: int = Field(ge=0, le=9, description="The most likely digit (argmax of `probabilities`).", examples=[7])
    confidence: float = Field(ge=0, le=1, description="The probability of `digit`.", examples=[0.993])
    probabilities: list[float] = Field(min_length=10, max_length=10,
                                       description="Calibrated probabilities of 0…9 given that it is a digit, "
                                       "summing to 1.")
    verdict: Literal["digit", "unsure", "not_a_digit"] = Field(
        description="`digit`: confident; `unsure`: a digit, but two or three are plausible (see "
        "`alternatives`); `not_a_digit`: the network's own 'not a digit' output is over its threshold. "
        "The thresholds and what they give on the validation split are in GET /api/model.")
    alternatives: list[Alternative] = Field(
        description="When `unsure`: the plausible digits, likeliest first; otherwise empty.")
    not_a_digit_probability: float = Field(ge=0, le=1, description="The probability that it is not a digit at "
                               "all (0 for a network without that output).")
    preview: list[list[float]] | SkipJsonSchema[None] = Field(
        None, description="The 28×28 input the network saw, rows of [0, 1], white ink on black; "
        "left out with `?preview=false`.")
    box: list[int] | SkipJsonSchema[None] = Field(
        None, min_length=4, max_length=4, examples=[[60, 40, 150, 200]],
        description="Where the digit was found, for an `image` sent to /api/predict, its upload or a batch "
        "(not for `pixels`, nor from /api/explain): " + _BOX)
    model: ModelRef


class ExplainRequest(PredictRequest):
    """As for /api/predict."""


class ReadDigit(BaseModel):
    digit: int = Field(ge=0, le=9)
    confidence: float = Field(ge=0, le=1)
    probabilities: list[float] = Field(min_length=10, max_length=10)
    verdict: Literal["digit", "unsure", "not_a_digit"]
    alternatives: list[Alternative]
    not_a_digit_probability: float = Field(ge=0, le=1)
    preview: list[list[float]] | SkipJsonSchema[None] = None
    box: list[int] = Field(min_length=4, max_length=4, description="Where the digit is: " + _BOX)


class ReadResponse(BaseModel):
    text: str = Field(description="The digits left to right; `?` for a piece that is not a digit.",
                      examples=["2026"])
    digits: list[ReadDigit] = Field(description="Each piece, left to right, answered as /api/predict answers "
                                                "(a digit of a number read with confidence under 0.75: the mean "
                                                "reading of its input and six copies shifted a pixel or scaled 10 %, "
                                                "when most of them agree with it).")
    model: ModelRef


class ErrorBody(BaseModel):
    """Every error's body: words for a person and a stable code (the table: docs/api.md#errors)."""

    detail: str = Field(examples=["The drawing is empty: draw a digit."])
    code: str = Field(examples=["empty_image"])


class ItemError(BaseModel):
    """An input of a batch sent with `?errors=inline` that could not be read: in its answer's place,
    the error /api/predict would answer for it alone (or `too_complex` when the batch's drawings
    outgrow their shared budget)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"error": {
        "detail": "The image is not valid base64 or a data URL.", "code": "invalid_image"}}]})

    error: ErrorBody


class BatchResponse(BaseModel):
    results: list[Prediction | ItemError] = Field(
        description="One answer per input, in order. Each is a `Prediction`; with `?errors=inline`, an input "
        "that could not be read is an `ItemError` instead (without it, such an input fails the whole batch).")


class Status(BaseModel):
    status: str = Field(examples=["ok"])


class Grid(BaseModel):
    """Numbers of any shape, sent compactly: ``value = low + byte / 255 · (high − low)``."""

    shape: list[int] = Field(description="The array's shape, e.g. [32, 24, 24]: channels first.")
    low: float
    high: float
    data: str = Field(description="The values quantised to bytes 0–255, row-major, base64.")


class LayerInfo(BaseModel):
    type: str = Field(examples=["conv2d"])
    output_shape: list[int] = Field(description="For one drawing: [channels, height, width] or [units].",
                                    examples=[[32, 24, 24]])
    parameters: int


class ModelSummary(BaseModel):
    name: str = Field(examples=["digitpad"])
    version: str
    default: bool = Field(description="Answers requests that name no model.")
    description: str | None = None
    preset: str | None = None
    n_params: int
    outputs: int
    test_accuracy: float | None = None


class ModelList(BaseModel):
    models: list[ModelSummary]


class LayerOutput(BaseModel):
    index: int = Field(description="The layer's position in the model's `layers`.")
    type: str
    values: Grid


class Explanation(Prediction):
    saliency: list[list[float]] = Field(
        description="28×28: how much brightening each pixel would raise the winning digit's score (the gradient "
        "of its logit with respect to the input, from the network's own backward pass), scaled so the "
        "largest magnitude is 1.")
    saliency_scale: float = Field(description="The largest |gradient| before scaling.")
    layers: list[LayerOutput] = Field(description="What each layer produced for this drawing (reshapes and "
                                      "dropout left out), channels first.")


class ModelInfo(BaseModel):
    """What is being served: architecture, provenance and how well it did."""

    name: str
    version: str
    description: str | None = None
    preset: str | None = None
    n_params: int
    layers: list[dict[str, Any]] = Field(description="The architecture, one object per layer.")
    input: dict[str, Any] = Field(description="The input convention the network expects.")
    temperature: float = Field(description="Softmax temperature used for calibrated probabilities.")
    training: dict[str, Any] = Field(description="Hyperparameters and how the training run went.")
    history: list[dict[str, Any]] = Field(description="Per-epoch loss and accuracy.")
    train_accuracy: float | None = None
    test_accuracy: float | None = Field(None, description="Accuracy on the 10 000 MNIST test digits.")
    per_class_accuracy: list[float] | None = None
    test: dict[str, Any] = Field(description="The full test report: confusion matrix, calibration error, n.")
    data_sha256: dict[str, str] = Field(default_factory=dict)
    created: str | None = None
    code_version: str | None = None
    outputs: int = Field(description="10 (digits) or 11 (digits and 'not a digit').")
    architecture: list[LayerInfo] = Field(description="Each layer with the shape it produces for one drawing "
                                          "and its parameter count.")
    first_filters: Grid | None = Field(None, description="The first convolution's kernels (F, k, k), for a CNN.")
    test_errors: list[dict[str, Any]] = Field(
        default_factory=list, description="MNIST test digits this model gets wrong (a sample): each "
        "{\"index\", \"truth\", \"answer\", \"image\" (28×28 uint8, base64)}; stored by "
        "`python -m scripts.evaluate --store`.")
    verdict: dict[str, Any] = Field(description="The thresholds that turn probabilities into `verdict`: `reject` "
                                    "(P(not a digit) at or over it: not_a_digit), `sure` (the top digit's "
                                    "probability at or over it: digit; else unsure), and the operating point they "
                                    "gave on the validation split.")
