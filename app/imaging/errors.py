"""What can be wrong with an input, as exceptions that carry a stable ``code``.

Raised by the pure decoding and preprocessing functions (no web framework here);
``app.api.errors`` turns them into ``{"detail", "code"}`` JSON with ``status``."""

from __future__ import annotations

EXCERPT = 80  # characters of anything a client sent that a message may quote


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """A short, quoted, escaped excerpt of client input for an error message: at most ``limit``
    characters of it, control characters and ``<>&"'`` escaped, so nothing sent is echoed whole
    and nothing in an answer can be read as markup."""
    cut = text[:limit]
    safe = cut.encode("ascii", "backslashreplace").decode("ascii")
    for ch in "<>&\"'":
        safe = safe.replace(ch, f"\\u{ord(ch):04x}")
    safe = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in safe)
    return f"'{safe}'" + ("…" if len(text) > limit else "")


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


class TooComplex(InputError):
    """The drawing would cost more work than its budget allows (``app.imaging.budget``)."""

    code = "too_complex"
