"""Every action × status × actor: allowed exactly where the table says, refused elsewhere."""

from __future__ import annotations

import itertools

import pytest

from hotline.domain.states import Role, Status
from hotline.domain.workflow import CO, FINAL, LEAD, TABLE, Action, Party, Refused, check

ACTORS = [*Role, *Party]
RELATIONS = [frozenset(), frozenset({LEAD}), frozenset({CO})]

# What the issue asks, written out independently of the table, for the main path.
EXPECTED_ALLOWED = {
    (Action.DISPATCH, Status.REPORTED, Role.OPERATOR),
    (Action.DISPATCH, Status.RETURNED, Role.SUPERVISOR),
    (Action.ACCEPT, Status.DISPATCHED, Role.UNIT),
    (Action.RETURN, Status.DISPATCHED, Role.UNIT),
    (Action.FEEDBACK, Status.ACCEPTED, Role.UNIT),
    (Action.RESOLVE, Status.IN_PROGRESS, Role.UNIT),
    (Action.CONFIRM, Status.RESOLVED, Party.RESIDENT),
    (Action.CONFIRM, Status.RESOLVED, Role.OPERATOR),
    (Action.REOPEN, Status.CLOSED, Role.OPERATOR),
    (Action.REJECT, Status.REPORTED, Role.OPERATOR),
    (Action.MERGE, Status.DISPATCHED, Role.OPERATOR),
    (Action.CLOSE_UNRATED, Status.RESOLVED, Party.SYSTEM),
    (Action.SUPERVISE, Status.IN_PROGRESS, Role.SUPERVISOR),
    (Action.DECIDE_EXTENSION, Status.IN_PROGRESS, Role.SUPERVISOR),
}
EXPECTED_REFUSED = {
    (Action.ACCEPT, Status.DISPATCHED, Role.OPERATOR),  # only the unit signs for it
    (Action.RESOLVE, Status.DISPATCHED, Role.UNIT),  # must accept first
    (Action.RETURN, Status.ACCEPTED, Role.UNIT),  # too late to return once accepted
    (Action.CONFIRM, Status.IN_PROGRESS, Party.RESIDENT),
    (Action.REJECT, Status.DISPATCHED, Role.OPERATOR),  # a unit has it: re-dispatch or merge
    (Action.DISPATCH, Status.CLOSED, Role.SUPERVISOR),
    (Action.SUPERVISE, Status.IN_PROGRESS, Role.ADMIN),
    (Action.FEEDBACK, Status.IN_PROGRESS, Party.RESIDENT),
    (Action.NOTE, Status.CLOSED, Role.OPERATOR),  # closed is read-only…
}


def relation_for(action: Action) -> frozenset[str]:
    wanted = TABLE[action].unit_relation
    return frozenset({LEAD}) if LEAD in wanted else frozenset(wanted)


@pytest.mark.parametrize(("action", "status", "actor"), sorted(EXPECTED_ALLOWED))
def test_allowed(action, status, actor) -> None:
    check(action, status, actor, relation_for(action))


@pytest.mark.parametrize(("action", "status", "actor"), sorted(EXPECTED_REFUSED))
def test_refused(action, status, actor) -> None:
    with pytest.raises(Refused):
        check(action, status, actor, relation_for(action))


def test_supervisors_may_note_closed_tickets() -> None:
    check(Action.NOTE, Status.CLOSED, Role.SUPERVISOR)


@pytest.mark.parametrize(
    ("action", "status", "actor", "relation"),
    list(itertools.product(Action, Status, ACTORS, RELATIONS)),
)
def test_every_combination_follows_the_table(action, status, actor, relation) -> None:
    transition = TABLE[action]
    allowed = actor in transition.actors and (
        actor is not Role.UNIT or bool(transition.unit_relation & relation)
    ) and (
        status in transition.sources
        or (action is Action.NOTE and status in FINAL and actor is Role.SUPERVISOR)
    )  # fmt: skip
    if allowed:
        assert check(action, status, actor, relation) is transition
    else:
        with pytest.raises(Refused) as info:
            check(action, status, actor, relation)
        who_ok = actor in transition.actors and (
            actor is not Role.UNIT or bool(transition.unit_relation & relation)
        )
        assert info.value.status == (409 if who_ok else 403)


def test_unit_must_be_lead_or_co_as_the_action_needs() -> None:
    with pytest.raises(Refused) as info:
        check(Action.RESOLVE, Status.IN_PROGRESS, Role.UNIT, frozenset({CO}))
    assert info.value.status == 403
    check(Action.REPORT_PART, Status.IN_PROGRESS, Role.UNIT, frozenset({CO}))


def test_final_states_have_no_way_out_but_reopen_and_notes() -> None:
    for action, transition in TABLE.items():
        if transition.sources & FINAL:
            assert action in {Action.REOPEN, Action.RECHECK}, action
