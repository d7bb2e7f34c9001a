"""Photo checks and storage: only real JPEG/PNG/WebP images, re-encoded without metadata.

Re-encoding drops EXIF (phones embed the GPS position of the reporter's home) and anything
smuggled after the image data. Files get random names under the configured upload directory.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import PayloadTooLarge, UnsupportedMedia

ALLOWED_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
MAX_PIXELS = 40_000_000  # a 48 MP phone photo is larger than needed; refuse decompression bombs
MAX_SIDE = 4096


@dataclass(frozen=True)
class PreparedPhoto:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int
    original_name: str | None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def prepare_photo(data: bytes, original_name: str | None, *, max_bytes: int) -> PreparedPhoto:
    """Check that ``data`` is an allowed image and return a clean re-encoded copy."""
    label = original_name or "照片"
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"“{label}”超过 {max_bytes // (1024 * 1024)} MB，请压缩后再上传")
    if not data:
        raise UnsupportedMedia(f"“{label}”是空文件")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt = probe.format
                if fmt not in ALLOWED_FORMATS:
                    raise UnsupportedMedia(f"“{label}”不是 JPEG、PNG 或 WebP 图片")
                if probe.width * probe.height > MAX_PIXELS:
                    raise PayloadTooLarge(f"“{label}”分辨率过高")
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                image = ImageOps.exif_transpose(image)
                image.thumbnail((MAX_SIDE, MAX_SIDE))
                content = _encode(image, fmt)
                width, height = image.size
    except (UnsupportedMedia, PayloadTooLarge):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PayloadTooLarge(f"“{label}”分辨率过高") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        # Pillow reports truncated or forged files with any of these.
        raise UnsupportedMedia(f"“{label}”不是有效的图片文件") from exc
    content_type, extension = ALLOWED_FORMATS[fmt]
    name = (original_name or "")[:200] or None
    return PreparedPhoto(content, content_type, extension, width, height, name)


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=85, optimize=True)
    elif fmt == "PNG":
        image.save(out, "PNG", optimize=False)
    else:
        image.save(out, "WEBP", quality=85)
    return out.getvalue()


class PhotoStore:
    """Files on disk. Writes go to a temporary name first, so a crash leaves no half file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, photo: PreparedPhoto) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"{secrets.token_hex(16)}.{photo.extension}"
        tmp = self.root / f".{name}.part"
        tmp.write_bytes(photo.content)
        tmp.replace(self.root / name)
        return name

    def path(self, stored_name: str) -> Path:
        return self.root / Path(stored_name).name

    def delete(self, stored_names: list[str]) -> None:
        for name in stored_names:
            self.path(name).unlink(missing_ok=True)
