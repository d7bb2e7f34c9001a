import pytest

from hotline.domain.text import TextError, normalize_phone, normalize_text


def test_normalize_text_nfkc_trims_and_unifies_newlines() -> None:
    assert normalize_text("  ＡＢＣ１２３\r\n第二行\x00  ") == "ABC123\n第二行"


def test_single_line_collapses_whitespace() -> None:
    assert normalize_text(" 和平路\n 12 号 ", multiline=False) == "和平路 12 号"


def test_lone_surrogate_is_refused() -> None:
    with pytest.raises(TextError):
        normalize_text("坏\ud800字")


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("13812341234", "13812341234"),
        ("138 1234 1234", "13812341234"),
        ("+86 138-1234-1234", "13812341234"),
        ("0086 13812341234", "13812341234"),
        ("0571-88001234", "057188001234"),
        ("010-62345678", "01062345678"),
        ("(0571)88001234", "057188001234"),
    ],
)
def test_valid_numbers(raw: str, normalized: str) -> None:
    assert normalize_phone(raw) == normalized


@pytest.mark.parametrize(
    "raw",
    [
        "12345",
        "88001234",
        "1381234123",
        "138123412345",
        "23812341234",
        "abc",
        "",
        "+1 650 253 0000",
        "12345678901234567890",
    ],
)
def test_invalid_numbers(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_phone(raw)


def test_chinese_punctuation_survives_nfkc() -> None:
    text = "路灯坏了，晚上很黑！怎么办？（急）……Ｗｉ－Ｆｉ"
    assert normalize_text(text) == "路灯坏了，晚上很黑！怎么办？（急）……Wi-Fi"
