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
