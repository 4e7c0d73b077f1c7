"""What can be wrong with an input, as exceptions that carry a stable ``code``.

Raised by the pure decoding and preprocessing functions (no web framework here);
``app.errors`` turns them into ``{"detail", "code"}`` JSON with ``status``."""

from __future__ import annotations


class InputError(ValueError):
    """An input the server cannot turn into a 28×28 image; the message is for the user."""

    code = "invalid_input"
    status = 422


class EmptyImage(InputError):
    code = "empty_image"


class InvalidImage(InputError):
    code = "invalid_image"


class UnsupportedFormat(InputError):
    code = "unsupported_format"
    status = 415


class ImageTooLarge(InputError):
    code = "image_too_large"


class InvalidPixels(InputError):
    code = "invalid_pixels"
