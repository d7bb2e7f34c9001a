"""回访未成功 in the workflow table: an operator's attempt on a resolved ticket, which keeps
its status; nobody else may record one, and not in any other status."""

from __future__ import annotations

import pytest

from hotline.domain.events import EventKind
from hotline.domain.states import Role, Status
from hotline.domain.workflow import (
    CALLBACK_OUTCOMES,
    EVENT_KIND,
    TABLE,
    Action,
    Party,
    Refused,
    check,
)
from hotline.schemas.actions import ACTIONS


def test_an_operator_records_an_attempt_on_a_resolved_ticket_and_the_status_stays() -> None:
    transition = check(Action.CALLBACK_ATTEMPT, Status.RESOLVED, Role.OPERATOR)
    assert transition.target is None and not transition.public
    assert EVENT_KIND[Action.CALLBACK_ATTEMPT] is EventKind.CALLBACK_ATTEMPTED
    assert set(CALLBACK_OUTCOMES.values()) == {"未接通", "拒绝回访"}


@pytest.mark.parametrize("actor", [Role.UNIT, Role.ADMIN, Role.SUPERVISOR, Party.RESIDENT,
                                   Party.SYSTEM])  # fmt: skip
def test_nobody_else_records_one(actor) -> None:
    with pytest.raises(Refused) as refused:
        check(Action.CALLBACK_ATTEMPT, Status.RESOLVED, actor)
    assert refused.value.status == 403


@pytest.mark.parametrize("status", sorted(set(Status) - {Status.RESOLVED}))
def test_only_a_resolved_ticket_is_called_back(status) -> None:
    assert status not in TABLE[Action.CALLBACK_ATTEMPT].sources
    with pytest.raises(Refused) as refused:
        check(Action.CALLBACK_ATTEMPT, status, Role.OPERATOR)
    assert refused.value.status == 409


def test_the_schema_presets_no_outcome_and_refuses_an_unknown_one() -> None:
    from marshmallow import ValidationError

    schema = ACTIONS[Action.CALLBACK_ATTEMPT].schema()
    field = schema.fields["outcome"]
    assert field.metadata["form"]["choices"][0] == ("", "请选择")
    assert schema.load({"version": 3, "outcome": "refused"})["outcome"] == "refused"
    for bad in ({"version": 3}, {"version": 3, "outcome": ""}, {"version": 3, "outcome": "x"}):
        with pytest.raises(ValidationError) as error:
            schema.load(bad)
        assert "outcome" in error.value.messages
