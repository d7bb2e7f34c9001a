"""Photos as phones make them: 4–5 MB, 12 MP, with EXIF (GPS, orientation), in the formats
residents upload (JPEG, PNG screenshots, WebP, HEIC from iPhones). Generated once per test
process; never stored in the repository."""

from __future__ import annotations

import functools
import io

from PIL import Image

MB = 1024 * 1024
# Size and noise per format chosen so that each file lands between 4 and 5 MB.
SHAPES = {
    "JPEG": (4032, 3024, 30, {"quality": 88}),
    "PNG": (1650, 1350, 60, {}),
    "WEBP": (3300, 2480, 50, {"quality": 92}),
    "HEIF": (2400, 1800, 60, {"quality": 95}),
}
NAMES = {"JPEG": "IMG_20261121_103000.jpg", "PNG": "Screenshot_2026-11-21.png",
         "WEBP": "IMG_0001.webp", "HEIF": "IMG_0002.HEIC"}  # fmt: skip
GPS_TAG = 0x8825


def _exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Apple"  # Make
    exif[0x0112] = 1  # orientation
    exif[GPS_TAG] = {1: "N", 2: (31.0, 13.0, 44.0), 3: "E", 4: (121.0, 28.0, 1.0)}
    return exif.tobytes()


@functools.cache
def phone_photo(fmt: str) -> bytes:
    """A 4–5 MB photo in ``fmt`` (JPEG, PNG, WEBP or HEIF) with GPS in its EXIF."""
    if fmt == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    width, height, noise, options = SHAPES[fmt]
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image = Image.blend(base, Image.effect_noise((width, height), noise).convert("RGB"), 0.5)
    out = io.BytesIO()
    image.save(out, fmt, exif=_exif(), **options)
    data = out.getvalue()
    assert 4 * MB <= len(data) <= 5 * MB, f"{fmt} photo is {len(data) / MB:.2f} MB"
    return data


def over_limit_photo(limit: int = 5 * MB) -> bytes:
    """A real JPEG of exactly ``limit`` + 1 bytes (padding after its end marker)."""
    data = phone_photo("JPEG")
    return data + b"\0" * (limit + 1 - len(data))


def has_exif(content: bytes) -> bool:
    with Image.open(io.BytesIO(content)) as image:
        return bool(image.getexif()) or "exif" in image.info
