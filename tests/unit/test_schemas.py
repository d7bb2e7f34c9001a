import pytest
from marshmallow import ValidationError

from hotline.schemas import ApiTicketSubmissionSchema, TicketSubmissionSchema


def load(**data):
    return TicketSubmissionSchema().load(data)


def errors(**data) -> dict:
    with pytest.raises(ValidationError) as info:
        ApiTicketSubmissionSchema().load(data)
    return info.value.normalized_messages()


def test_minimal_valid_submission() -> None:
    data = load(description="  路灯不亮已经一周  ", reporter_phone="13812341234")
    assert data["description"] == "路灯不亮已经一周"
    assert data["reporter_phone"] == "13812341234"
    assert data["anonymous"] is False


def test_description_bounds_after_trimming() -> None:
    assert "description" in errors(description="  短  ", reporter_phone="13812341234")
    assert "description" in errors(description="长" * 2001, reporter_phone="13812341234")
    assert load(description="长" * 2000, reporter_phone="13812341234")
    assert errors(reporter_phone="13812341234")["description"] == ["此项为必填项"]


def test_phone_required_unless_anonymous() -> None:
    assert errors(description="路灯不亮已经一周")["reporter_phone"] == [
        "请填写联系电话，或选择匿名反映"
    ]
    assert load(description="路灯不亮已经一周", anonymous=True)["anonymous"] is True


def test_bad_phone_message_is_chinese() -> None:
    message = errors(description="路灯不亮已经一周", reporter_phone="12345")["reporter_phone"][0]
    assert "手机号码" in message


def test_unknown_fields_are_refused() -> None:
    assert errors(description="路灯不亮已经一周", anonymous=True, hack=1)["hack"] == [
        "不支持的字段"
    ]


def test_coordinates_come_in_pairs_and_in_range() -> None:
    assert "longitude" in errors(description="路灯不亮已经一周", anonymous=True, latitude=30.2)
    assert "latitude" in errors(
        description="路灯不亮已经一周", anonymous=True, latitude=91, longitude=120
    )
    data = load(description="路灯不亮已经一周", anonymous=True, latitude=30.2, longitude=120.1)
    assert (data["latitude"], data["longitude"]) == (30.2, 120.1)


def test_blank_optional_fields_from_forms_are_ignored() -> None:
    data = load(description="路灯不亮已经一周", anonymous=True, address="  ", category="")
    assert "address" not in data and "category" not in data


def test_not_an_object() -> None:
    with pytest.raises(ValidationError) as info:
        TicketSubmissionSchema().load(["x"])
    assert info.value.normalized_messages() == {"_schema": ["请求体应为 JSON 对象"]}


def test_priority_is_checked() -> None:
    assert "priority" in errors(description="路灯不亮已经一周", anonymous=True, priority="asap")
