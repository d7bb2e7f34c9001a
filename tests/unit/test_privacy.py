import pytest

from hotline.domain.privacy import mask_name, mask_phone, may_see_phone
from hotline.domain.states import Role


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812341234", "138****1234"),
        ("057188001234", "057****1234"),
        ("12345", "****"),
        (None, None),
        ("", ""),
    ],
)
def test_mask_phone(phone: str | None, masked: str | None) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("欧阳娜娜", "欧***"), ("李", "*"), ("Alexander", "A***"), (None, None)],
)
def test_mask_name(name: str | None, masked: str | None) -> None:
    assert mask_name(name) == masked


def test_phone_visibility_by_role() -> None:
    assert may_see_phone(Role.OPERATOR, consent_contact=False)
    assert may_see_phone(Role.SUPERVISOR, consent_contact=False)
    assert may_see_phone(Role.UNIT, consent_contact=True)
    assert not may_see_phone(Role.UNIT, consent_contact=False)
    assert not may_see_phone(Role.ADMIN, consent_contact=True)
    assert not may_see_phone(None, consent_contact=True)
