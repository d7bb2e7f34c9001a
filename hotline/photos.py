"""Photo checks and storage: only real JPEG/PNG/WebP/HEIC images, re-encoded without metadata.

Re-encoding drops EXIF (phones embed the GPS position of the reporter's home) and anything
smuggled after the image data. iPhones save HEIC by default; browsers cannot show it, so it
is stored as JPEG. Files get random names under the configured upload directory.
"""

from __future__ import annotations

import functools
import hashlib
import io
import secrets
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import HotlineError, PayloadTooLarge, UnsupportedMedia

# Format Pillow reads → the format it is stored in. MPO is the multi-picture JPEG many
# Android phones write; HEIF covers .heic/.heif (through the pillow-heif plugin).
STORED_AS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "HEIF": "JPEG"}
STORED_TYPES = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
# What the file picker offers; browsers that do not know HEIC still let residents pick it.
ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif"
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


@functools.cache
def _register_heif() -> None:
    """Teach Pillow HEIC/HEIF, once per process, on first use (not at import)."""
    from pillow_heif import register_heif_opener

    register_heif_opener()


def _refused(kind: type[HotlineError], message: str) -> HotlineError:
    # Every upload path calls its file field "photos": the reason goes next to it.
    return kind(message, errors={"photos": [message]})


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def prepare_uploads(files: Sequence[Any], *, max_bytes: int, max_count: int) -> list[PreparedPhoto]:
    """Uploaded files (werkzeug FileStorage; empty file inputs ignored) checked and re-encoded;
    the first problem is raised with the file's name."""
    files = [f for f in files if f and f.filename]
    if len(files) > max_count:
        raise _refused(PayloadTooLarge, f"最多上传 {max_count} 张照片，您选择了 {len(files)} 张")
    return [prepare_photo(f.stream.read(max_bytes + 1), f.filename, max_bytes=max_bytes)
            for f in files]  # fmt: skip


def prepare_photo(data: bytes, original_name: str | None, *, max_bytes: int) -> PreparedPhoto:
    """Check that ``data`` is an allowed image and return a clean re-encoded copy."""
    _register_heif()
    label = original_name or "照片"
    if len(data) > max_bytes:
        raise _refused(PayloadTooLarge, f"“{label}”超过 {megabytes(max_bytes)}，请压缩后再上传")
    if not data:
        raise _refused(UnsupportedMedia, f"“{label}”是空文件")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt = STORED_AS.get(probe.format or "")
                if fmt is None:
                    raise _refused(UnsupportedMedia, f"“{label}”不是 JPEG、PNG、WebP 或 HEIC 图片")
                if probe.width * probe.height > MAX_PIXELS:
                    raise _refused(PayloadTooLarge, f"“{label}”分辨率过高")
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                image = ImageOps.exif_transpose(image)
                image.thumbnail((MAX_SIDE, MAX_SIDE))
                content = _encode(image, fmt)
                width, height = image.size
    except HotlineError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _refused(PayloadTooLarge, f"“{label}”分辨率过高") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        # Pillow reports truncated or forged files with any of these.
        raise _refused(UnsupportedMedia, f"“{label}”不是有效的图片文件") from exc
    content_type, extension = STORED_TYPES[fmt]
    name = (original_name or "")[:200] or None
    return PreparedPhoto(content, content_type, extension, width, height, name)


def _encode(image: Image.Image, fmt: str) -> bytes:
    # Only pixels and the colour profile go out (iPhones shoot in Display P3; without the
    # profile colours shift); EXIF, XMP and anything else are left behind.
    profile = {"icc_profile": image.info["icc_profile"]} if image.info.get("icc_profile") else {}
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=85, optimize=True, **profile)
    elif fmt == "PNG":
        image.save(out, "PNG", optimize=False, **profile)
    else:
        image.save(out, "WEBP", quality=85, method=0, **profile)  # method 4: 3× slower, same size
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
