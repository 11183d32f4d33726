"""Company logos: a PNG or JPEG of at most 1 MB, decoded and re-encoded with Pillow so that
nothing but its pixels survives (no metadata, no comments, no trailing bytes, no second file
hidden after the image), before it goes on every claim's PDF."""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from models.errors import DomainError

MAX_LOGO_BYTES = 2**20  # 1 MB, as the upload says
# A small file can still decode to a huge bitmap (a "decompression bomb"); a letterhead needs
# nothing near this.
MAX_LOGO_PIXELS = 25_000_000
# Larger logos are scaled down to this on their longest side: plenty for print at the size a
# letterhead shows them, and it keeps every PDF small.
LOGO_LONGEST_SIDE = 1200
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


class LogoError(DomainError):
    """Raised when an uploaded logo cannot be used; the message says why."""


@dataclass(frozen=True)
class Logo:
    content: bytes
    content_type: str
    width: int
    height: int


def clean_logo(data: bytes) -> Logo:
    """The logo re-encoded from its pixels alone; LogoError for anything but a PNG or JPEG
    image of at most 1 MB."""
    if len(data) > MAX_LOGO_BYTES:
        raise LogoError(
            f"The logo is {len(data) / 2**20:.1f} MB; it may be at most 1 MB. "
            "Save it smaller (a letterhead needs about 1200 pixels across) and upload it again."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS:
                raise LogoError(
                    f"The logo is a {image.format} image; upload a PNG or JPEG instead."
                )
            if image.width * image.height > MAX_LOGO_PIXELS:
                raise LogoError(
                    f"The logo is {image.width} x {image.height} pixels; "
                    "upload one of at most 5000 x 5000."
                )
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise LogoError(
            "The logo has too many pixels to be read safely; upload one of at most 5000 x 5000."
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise LogoError("That file is not a PNG or JPEG image that can be read.") from None
    source_format = image.format
    # A camera's EXIF orientation goes with the metadata: turn the pixels instead.
    image = ImageOps.exif_transpose(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    mode = "RGBA" if has_alpha and source_format == "PNG" else "RGB"
    image = image.convert(mode)
    image.thumbnail((LOGO_LONGEST_SIDE, LOGO_LONGEST_SIDE))
    # A new image made from the raw pixels carries no `info` (ICC profile, text chunks, EXIF,
    # comments) for the encoder to write back.
    pixels = Image.frombytes(mode, image.size, image.tobytes())
    out = io.BytesIO()
    if source_format == "PNG":
        pixels.save(out, "PNG")
    else:
        pixels.save(out, "JPEG", quality=90)
    return Logo(out.getvalue(), FORMATS[source_format], pixels.width, pixels.height)
