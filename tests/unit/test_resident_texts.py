"""What residents and followers read: the resolution SMS asks for a reply, a dissatisfied
answer is not thanked, followers' texts carry no tracking link; SMS replies are read as
ratings; the gateway's signature is ours; the demo channel prints each message."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from hotline.domain import templates as t
from hotline.domain.events import EventKind as E
from hotline.domain.states import Satisfaction
from hotline.services.inbound_sms import SignatureError, parse_rating, verify_signature
from hotline.services.outbox import FOLLOWER_EVENTS, RESIDENT_EVENTS, template_for
from notifications.channels import Message
from notifications.channels.console import ConsoleChannel
from notifications.channels.webhook import signature

NOW = datetime(2026, 11, 21, 2, 30, tzinfo=UTC)


def test_the_resolution_sms_asks_for_a_reply_and_keeps_the_link() -> None:
    text = t.render(t.DEFAULTS["resident.resolved"].body, t.SAMPLE)
    assert "回复1满意、2基本满意、3不满意" in text and t.SAMPLE["link"] in text
    assert len(text) <= t.SMS_LIMIT


@pytest.mark.parametrize("audience", ["resident", "follower"])
def test_a_confirmation_that_sent_the_ticket_back_is_told_as_a_reopening(audience) -> None:
    back = {"from": "resolved", "to": "reopened"}
    assert template_for(audience, E.CONFIRMED, back) == f"{audience}.reopened"
    closed = {"from": "resolved", "to": "closed"}
    assert template_for(audience, E.CONFIRMED, closed) == f"{audience}.confirmed"
    # The unit hears the confirmation itself (its body says the ticket came back).
    assert template_for("unit", E.CONFIRMED, back) == "unit.confirmed"


def test_the_texts_residents_read_after_an_answer() -> None:
    thanks = t.render(t.DEFAULTS["resident.confirmed"].body, t.SAMPLE)
    again = t.render(t.DEFAULTS["resident.reopened"].body, t.SAMPLE)
    assert "感谢" in thanks
    assert "感谢" not in again and "重新办理" in again and "承办单位" in again


def test_followers_have_their_own_texts_without_the_link() -> None:
    for event in FOLLOWER_EVENTS:
        key = t.template_key("follower", event)
        assert key.startswith("follower.")
        assert "link" not in t.allowed_variables(key)
        assert "/track/" not in t.render(t.DEFAULTS[key].body, t.SAMPLE)
    assert FOLLOWER_EVENTS == RESIDENT_EVENTS
    refused = t.check("follower.other", "工单{{ number }}：{{ link }}")
    assert "link" in refused["body"][0]
    assert t.AUDIENCES["follower"] == "关注的市民"
    assert "评价" not in t.DEFAULTS["follower.resolved"].body  # followers do not rate


def test_the_polite_answer_with_and_without_a_ticket() -> None:
    assert t.SMS_REPLY_HELP in t.STANDALONE
    with_ticket = t.render(t.DEFAULTS[t.SMS_REPLY_HELP].body, t.SAMPLE)
    assert t.SAMPLE["link"] in with_ticket and "回复1满意" in with_ticket
    no_ticket = {**t.SAMPLE, "number": "", "link": ""}
    assert "请拨打 12345" in t.render(t.DEFAULTS[t.SMS_REPLY_HELP].body, no_ticket)


@pytest.mark.parametrize(
    ("text", "rating"),
    [("1", Satisfaction.SATISFIED), ("１", Satisfaction.SATISFIED),
     (" 1 ", Satisfaction.SATISFIED), ("满意", Satisfaction.SATISFIED),
     ("2", Satisfaction.BASIC), ("基本满意。", Satisfaction.BASIC),
     ("3", Satisfaction.DISSATISFIED), ("３", Satisfaction.DISSATISFIED),
     ("不满意！", Satisfaction.DISSATISFIED), ("4", None), ("13", None), ("好的", None),
     ("", None), ("1 满意", None)],
)  # fmt: skip
def test_replies_read_as_ratings(text: str, rating: Satisfaction | None) -> None:
    assert parse_rating(text) is rating


def test_the_gateway_signs_as_our_webhooks_do() -> None:
    body = b'{"id":"1","phone":"13812341234","text":"1"}'
    stamp = int(NOW.timestamp())
    verify_signature("s3cret", signature("s3cret", stamp, body), body, now=NOW)
    cases = [
        (None, 401), ("", 401), ("v1=abc", 401), ("t=x,v1=abc", 401),
        (signature("other", stamp, body), 403),
        (signature("s3cret", stamp, body + b" "), 403),
        (signature("s3cret", stamp - 301, body), 403),
        (signature("s3cret", stamp + 301, body), 403),
    ]  # fmt: skip
    for header, status in cases:
        with pytest.raises(SignatureError) as refused:
            verify_signature("s3cret", header, body, now=NOW)
        assert refused.value.status == status, header
    late = signature("s3cret", stamp - 299, body)
    verify_signature("s3cret", late, body, now=NOW + timedelta(seconds=0))


def test_the_demo_channel_prints_one_line_per_message(capsys, caplog) -> None:
    caplog.set_level(logging.INFO, "hotline.notifications")
    ConsoleChannel().send(Message("42", "13812341234", "工单WM1已办理完毕。\n请回复1满意"))
    line = capsys.readouterr().out
    assert line.count("\n") == 1 and line.startswith("[演示通道 ")
    assert "→ 13812341234（通知 42）：工单WM1已办理完毕。 请回复1满意" in line
    assert "13812341234" in caplog.text  # still logged, for setups that configure logging
