import pytest
from PIL import Image

from hotline.errors import PayloadTooLarge, UnsupportedMedia
from hotline.photos import PhotoStore, prepare_photo
from tests.helpers import image_bytes


@pytest.mark.parametrize(
    ("fmt", "mime"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_allowed_formats(fmt: str, mime: str) -> None:
    photo = prepare_photo(image_bytes(fmt), "a.img", max_bytes=1_000_000)
    assert photo.content_type == mime
    assert (photo.width, photo.height) == (32, 24)


def test_exif_is_stripped() -> None:
    import io

    photo = prepare_photo(image_bytes("JPEG", exif=True), "a.jpg", max_bytes=1_000_000)
    with Image.open(io.BytesIO(photo.content)) as image:
        assert not image.getexif()


def test_not_an_image_is_415() -> None:
    with pytest.raises(UnsupportedMedia):
        prepare_photo(b"<?php echo 1; ?>", "x.jpg", max_bytes=1_000_000)


def test_truncated_image_is_415() -> None:
    with pytest.raises(UnsupportedMedia):
        prepare_photo(image_bytes("PNG")[:60], "x.png", max_bytes=1_000_000)


def test_gif_is_refused() -> None:
    with pytest.raises(UnsupportedMedia):
        prepare_photo(image_bytes("GIF"), "x.gif", max_bytes=1_000_000)


def test_too_big_is_413() -> None:
    with pytest.raises(PayloadTooLarge):
        prepare_photo(image_bytes("PNG"), "x.png", max_bytes=10)


def test_store_uses_random_names_and_deletes(tmp_path) -> None:
    store = PhotoStore(tmp_path)
    photo = prepare_photo(image_bytes("PNG"), "../../etc/passwd.png", max_bytes=1_000_000)
    first, second = store.save(photo), store.save(photo)
    assert first != second and "passwd" not in first
    assert store.path(first).read_bytes() == photo.content
    store.delete([first, second])
    assert list(tmp_path.iterdir()) == []


def test_heic_from_an_iphone_is_stored_as_jpeg_without_exif() -> None:
    import io

    from pillow_heif import register_heif_opener

    from tests.helpers.photos import has_exif

    register_heif_opener()
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (31.0, 13.0, 44.0)}  # GPS
    Image.new("RGB", (64, 48), (10, 120, 200)).save(out, "HEIF", exif=exif.tobytes())
    photo = prepare_photo(out.getvalue(), "IMG_0001.HEIC", max_bytes=1_000_000)
    assert (photo.content_type, photo.extension) == ("image/jpeg", "jpg")
    assert (photo.width, photo.height) == (64, 48) and not has_exif(photo.content)


def test_multi_picture_jpeg_from_android_phones_is_accepted() -> None:
    import io

    out = io.BytesIO()
    first, second = Image.new("RGB", (40, 30), "red"), Image.new("RGB", (40, 30), "blue")
    first.save(out, "MPO", save_all=True, append_images=[second])
    with Image.open(io.BytesIO(out.getvalue())) as probe:
        assert probe.format == "MPO"
    photo = prepare_photo(out.getvalue(), "DSC_0001.JPG", max_bytes=1_000_000)
    assert photo.content_type == "image/jpeg" and (photo.width, photo.height) == (40, 30)
