"""Uploaded product images: checked with Pillow, then turned into the rendition channels get.

`check_image` refuses anything that is not a real JPEG, PNG, WebP or GIF picture within the
limits below, with a field error and a code from `CatalogErrorCode`. `make_rendition` turns an
accepted upload into the file every channel takes (docs/channels.md, *Product images*): an RGB
JPEG, EXIF orientation applied and all metadata dropped, the longest side at most
`RENDITION_MAX_SIDE`, the shortest at least `MIN_SIDE`.

The limits follow the strictest channel: Meta's 500 x 500 px minimum, TikTok Shop's 10 MB and
4000 x 4000 px maximum for main images (met by the rendition, whatever the upload).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from catalog.errors import CatalogErrorCode

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
MAX_BYTES = 20 * 1024 * 1024  # an upload; the rendition is far smaller
MAX_PIXELS = 25_000_000  # 25 megapixels (e.g. 5000 x 5000)
MIN_SIDE = 500  # Meta's catalog minimum, the strictest of the channels
MAX_ASPECT = 4  # longer side at most 4 x the shorter: the rendition keeps both sides in range
RENDITION_MAX_SIDE = 2048
RENDITION_QUALITY = 85
# The copy lists and order pages show (a product row, an order line): small enough for a cheap
# phone on a slow network, sharp at 3x on a 80-px cell.
THUMBNAIL_MAX_SIDE = 240
THUMBNAIL_QUALITY = 80

# Pillow's own guard against decompression bombs: a warning above this many pixels, an error
# (DecompressionBombError) above twice as many. `check_image` refuses anything above
# MAX_PIXELS from the header before decoding, and turns the warning into a refusal too.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class ImageInfo:
    format: str  # JPEG, PNG, WEBP, GIF
    width: int
    height: int

    @property
    def extension(self) -> str:
        return ALLOWED_FORMATS[self.format]


def _error(message: str, code: CatalogErrorCode, **params) -> ValidationError:
    return ValidationError(message, code=code, params=params or None)


def _read(upload) -> bytes:
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read()
    if hasattr(upload, "seek"):
        upload.seek(0)
    return data


def _not_an_image() -> ValidationError:
    return _error(
        _("This file is not an image we can read. Upload a JPEG, PNG, WebP or GIF picture."),
        CatalogErrorCode.IMAGE_INVALID,
    )


def _too_many_pixels(info: ImageInfo | None) -> ValidationError:
    if info is None:  # refused by Pillow's own guard while reading the header
        return _error(
            _("The image has more than %(megapixels)d megapixels. Make it smaller and upload it again."),
            CatalogErrorCode.IMAGE_TOO_MANY_PIXELS,
            megapixels=MAX_PIXELS // 1_000_000,
        )
    return _error(
        _(
            "The image is %(width)d x %(height)d pixels; at most %(megapixels)d megapixels are "
            "accepted. Make it smaller and upload it again."
        ),
        CatalogErrorCode.IMAGE_TOO_MANY_PIXELS,
        width=info.width,
        height=info.height,
        megapixels=MAX_PIXELS // 1_000_000,
    )


def check_image(upload) -> ImageInfo:
    """The format and size of an uploaded picture, or a ValidationError saying what is wrong.

    Reads the header first (size, format, dimensions: nothing is decoded), then `verify()`s the
    file and decodes it fully from a fresh handle, so a truncated or corrupt file is refused
    here and not when the rendition is made.
    """
    size = getattr(upload, "size", None)
    if size is None:
        size = len(_read(upload))
    if size > MAX_BYTES:
        raise _error(
            _("The file is %(size)s; images of at most %(limit)s are accepted."),
            CatalogErrorCode.IMAGE_FILE_TOO_LARGE,
            size=filesizeformat(size),
            limit=filesizeformat(MAX_BYTES),
        )
    data = _read(upload)
    info = None
    try:
        # The header only: format and dimensions, nothing decoded. Pillow's warning above
        # MAX_IMAGE_PIXELS is left to our own check (which names the size); its error above
        # twice that still stops a bomb here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                # Phones write JPEGs with extra pictures in them (MPO): Pillow names them MPO.
                fmt = "JPEG" if image.format == "MPO" else (image.format or "")
                info = ImageInfo(format=fmt, width=image.width, height=image.height)
        if info.format not in ALLOWED_FORMATS:
            raise _error(
                _("%(format)s images are not accepted. Upload a JPEG, PNG, WebP or GIF picture."),
                CatalogErrorCode.IMAGE_FORMAT_NOT_ALLOWED,
                format=info.format,
            )
        if info.width * info.height > MAX_PIXELS:
            raise _too_many_pixels(info)
        # Then the whole file: verify() checks its structure, and a fresh handle decodes every
        # pixel (verify() leaves the image unusable), so a truncated file is refused here.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(info) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _not_an_image() from exc
    short, long = sorted((info.width, info.height))
    if short < MIN_SIDE:
        raise _error(
            _(
                "The image is %(width)d x %(height)d pixels; channels need at least %(min)d x %(min)d. "
                "Upload a larger picture."
            ),
            CatalogErrorCode.IMAGE_TOO_SMALL,
            width=info.width,
            height=info.height,
            min=MIN_SIDE,
        )
    if long > short * MAX_ASPECT:
        raise _error(
            _(
                "The image is %(width)d x %(height)d pixels: too long and narrow for a product picture "
                "(the longer side may be at most %(ratio)d times the shorter). Crop it and upload it again."
            ),
            CatalogErrorCode.IMAGE_TOO_ELONGATED,
            width=info.width,
            height=info.height,
            ratio=MAX_ASPECT,
        )
    return info


def rendition_size(width: int, height: int, max_side: int = RENDITION_MAX_SIDE) -> tuple[int, int]:
    """The rendition's size: the longest side capped at `max_side`, never enlarged."""
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def make_thumbnail(upload) -> bytes:
    """The small JPEG lists and order pages show (longest side THUMBNAIL_MAX_SIDE)."""
    data, _width, _height = make_rendition(upload, max_side=THUMBNAIL_MAX_SIDE, quality=THUMBNAIL_QUALITY)
    return data


def make_rendition(
    upload, *, max_side: int = RENDITION_MAX_SIDE, quality: int = RENDITION_QUALITY
) -> tuple[bytes, int, int]:
    """The channel rendition of a checked upload: (JPEG bytes, width, height).

    EXIF orientation is applied (a phone's portrait photo stays upright) and no metadata is
    written (no EXIF, so no location or camera details leave the shop); transparency becomes
    white, the background channels ask for; an animated GIF gives its first frame.
    """
    with Image.open(io.BytesIO(_read(upload))) as source:
        source.seek(0)
        if source.format == "JPEG":  # decode at the smallest 1/2, 1/4 or 1/8 scale still large enough
            source.draft("RGB", rendition_size(source.width, source.height, max_side))
        image = ImageOps.exif_transpose(source)
        if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
            rgba = image.convert("RGBA")
            image = Image.new("RGB", rgba.size, (255, 255, 255))
            image.paste(rgba, mask=rgba.getchannel("A"))
        else:
            image = image.convert("RGB")
        size = rendition_size(*image.size, max_side)
        if size != image.size:
            image = image.resize(size, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
        return out.getvalue(), image.width, image.height
