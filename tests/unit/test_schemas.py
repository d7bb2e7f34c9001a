import pytest
from marshmallow import ValidationError

from hotline.schemas.tickets import ApiTicketSubmissionSchema, TicketSubmissionSchema


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


def test_every_action_has_one_definition_for_the_api_and_the_console() -> None:
    """The console's forms come from the action schemas: every action the workflow knows
    has a schema, a label and a form, and each form field is a field of that schema."""
    from hotline.domain.workflow import Action
    from hotline.schemas.actions import ACTIONS
    from hotline.web.forms import action_form

    assert set(ACTIONS) == set(Action) - {Action.CLOSE_UNRATED}  # the sweep's, nobody's form
    for action, spec in ACTIONS.items():
        declared = set(spec.schema().fields)
        assert "version" in declared and spec.label
        for field in action_form(action):
            assert field.label and field.kind
            assert field.name in declared or field.kind == "file", (action, field)
    resolve = {f.name: f for f in action_form(Action.RESOLVE)}
    assert resolve["photos"].kind == "file" and resolve["reply"].required
    confirm = {f.name: f for f in action_form(Action.CONFIRM)}
    # Nothing preset: the first choice is "请选择", which the schema refuses as no answer.
    assert confirm["satisfaction"].choices == (("", "请选择"), ("satisfied", "满意"),
                                               ("basic", "基本满意"),
                                               ("dissatisfied", "不满意"))  # fmt: skip
