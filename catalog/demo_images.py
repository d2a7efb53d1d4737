"""Product pictures for seeded catalogs, made here: a demo that works offline needs no image
service, and channels that download images (TikTok Shop uploads each one) can fetch them
from this deployment's own media URL."""

from __future__ import annotations

import hashlib
import struct
import zlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.text import slugify

FOLDER = "demo"
WIDTH, HEIGHT = 800, 1000


def png(width: int, height: int, rgb: tuple[int, int, int], band: tuple[int, int, int] | None = None) -> bytes:
    """A PNG of one colour with a lighter band across its middle (a garment's shape is not
    needed to tell the pictures apart on a page or a channel)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    plain = b"\x00" + bytes(rgb) * width
    banded = b"\x00" + bytes(band or rgb) * width
    top, bottom = height * 2 // 5, height * 3 // 5
    raw = b"".join(banded if top <= y < bottom else plain for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def colour_of(name: str) -> tuple[int, int, int]:
    """A stable colour for a name (the same colour name always looks the same)."""
    known = {
        "black": (34, 34, 34), "white": (236, 236, 232), "navy": (31, 45, 84), "heather-grey": (150, 150, 152),
        "olive": (107, 112, 62), "sand": (212, 190, 150), "rust": (166, 82, 44), "forest": (34, 85, 55),
        "sky-blue": (120, 176, 222), "burgundy": (110, 30, 48), "charcoal": (64, 66, 70), "cream": (240, 230, 205),
    }  # fmt: skip
    slug = slugify(name)
    if slug in known:
        return known[slug]
    digest = hashlib.sha256(slug.encode()).digest()
    return digest[0], digest[1], digest[2]


def demo_image_url(name: str, base_url: str = "") -> str:
    """The public URL of the seeded picture for a colour name, written on first use."""
    path = f"{FOLDER}/{slugify(name) or 'item'}.png"
    if not default_storage.exists(path):
        rgb = colour_of(name)
        band = tuple(min(255, c + 40) for c in rgb)
        default_storage.save(path, ContentFile(png(WIDTH, HEIGHT, rgb, band)))
    url = default_storage.url(path)  # the storage's own URL: a bucket's is absolute already
    if url.startswith(("http://", "https://")):
        return url
    return (base_url or settings.SITE_URL).rstrip("/") + "/" + url.lstrip("/")
