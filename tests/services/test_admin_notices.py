"""Admins' notices (a learned routing draft waits for review): a template of their own with
variables of their own, and composed without a ticket — an e-mail over SMTP when it is set,
else the demo channel, whose text the outbox page keeps."""

from __future__ import annotations

import json
from dataclasses import replace

from sqlalchemy import select

from hotline.background.learning import run_learning
from hotline.config import Settings
from hotline.domain import templates as t
from hotline.models import OutboxMessage, RulesetRecord
from hotline.services.inbox import admin_notice
from hotline.services.outbox import console_messages
from notifications.channels.console import ConsoleChannel
from notifications.channels.email import SmtpChannel
from notifications.compose import compose
from notifications.outbox import flush
from tests.helpers.learning_city import NOW, corrections, history

KEY = t.ROUTING_DRAFT_READY
PATH = "/console/admin/routing/42"


def test_the_draft_notice_is_a_template_with_variables_of_its_own() -> None:
    default = t.DEFAULTS[KEY]
    assert t.check(KEY, default.body, default.subject) == {}
    text = t.render(default.body, t.SAMPLE)
    assert t.SAMPLE["ruleset"] in text and text.endswith(t.SAMPLE["page"])
    assert t.render(default.subject, t.SAMPLE) == "分派规则草稿 示范市默认规则 v4 已生成，待审阅"
    assert t.allowed_variables(KEY) == {"ruleset", "active", "figures", "page"}
    assert t.AUDIENCES[t.audience_of(KEY)] == "系统管理员" and KEY in t.STANDALONE
    assert t.template_label(KEY) == "分派规则草稿待审阅"
    assert t.template_label("unit.dispatched") == "派单"
    # A notice about the system has no ticket, and tickets' texts know nothing of drafts.
    (refused,) = t.check(KEY, "工单{{ number }}：{{ ruleset }}")["body"]
    assert refused.startswith("发给系统管理员的模板不能使用：number。可用的变量：{{ active }}")
    (refused,) = t.check("unit.dispatched", "工单{{ number }}，{{ page }}")["body"]
    assert refused.startswith("发给承办单位的模板不能使用：page")
    assert t.check(KEY, "{{ ruleset }}", "待审：{{ link }}")["subject"]
    assert "超过上限 2000 个字" in t.check(KEY, "{{ figures }}" * 40)["body"][0]  # e-mail limit


def _notice(db, emails: list[str], body: str = "草稿 v2 待审阅：https://x/console") -> list[int]:
    with db.transaction() as session:
        rows = admin_notice(session, kind="routing_draft_ready", template=KEY, body=body,
                            subject="草稿 v2 待审阅", link_path=PATH, emails=emails, now=NOW,
                            values={})  # fmt: skip
        return [row.id for row in rows]


def test_an_admins_notice_is_an_email_when_smtp_is_set_else_the_demo_channel(db, settings) -> None:
    _, mail_id = _notice(db, ["it@shifan.example"])
    mailing = replace(settings, smtp_host="smtp.shifan.example", smtp_port=25)
    with db.transaction() as session:
        row = session.get(OutboxMessage, mail_id)
        channel, message = compose(session, row, mailing)  # no ticket, and no error for it
        assert isinstance(channel, SmtpChannel) and channel.host == "smtp.shifan.example"
        assert (message.key, message.to) == (str(mail_id), "it@shifan.example")
        assert message.text == "草稿 v2 待审阅：https://x/console"
        assert message.subject == "草稿 v2 待审阅"
        assert message.data == {"event": "routing_draft_ready", "link": PATH}
        channel, message = compose(session, row, settings)  # no SMTP
        assert isinstance(channel, ConsoleChannel) and message.to == "it@shifan.example"


def test_without_smtp_the_demo_channel_sends_it_and_the_outbox_page_keeps_it(db, settings) -> None:
    inbox_id, mail_id = _notice(db, ["it@shifan.example"])
    assert flush(settings, db, now=NOW) == [mail_id]  # the inbox row has nothing to deliver
    with db.transaction() as session:
        row = session.get(OutboxMessage, mail_id)
        assert row.status == "sent" and row.payload["console_text"].startswith("草稿 v2")
        (shown,) = console_messages(session)
        assert (shown["audience"], shown["recipient"]) == ("admin", "it@shifan.example")
        assert session.get(OutboxMessage, inbox_id).status == "sent"


def test_a_notice_without_text_fails_for_good_with_a_reason(db, settings) -> None:
    _, mail_id = _notice(db, ["it@shifan.example"], body="  ")
    flush(settings, db, now=NOW)
    with db.transaction() as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.id == mail_id))
        assert (row.status, row.last_error) == ("failed", "通知内容为空，未发送")


def test_the_weekly_run_learns_the_history_file_of_the_settings(db, settings, tmp_path) -> None:
    """HOTLINE_ROUTING_HISTORY is a setting (a path, relative to the working directory): the
    scheduler's run learns the file again with the tickets, and says so in the draft's notes."""
    rows = [{"text": "夜里工地施工噪音很大", "label": "noise"},
            {"text": "和平路流动摊贩占道经营", "label": "占道经营"}] * 2  # fmt: skip
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "history.jsonl").write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), "utf-8"
    )
    read = Settings.from_env({"HOTLINE_ROUTING_HISTORY": "data/history.jsonl"}, base=tmp_path)
    assert read.routing_history == tmp_path / "data" / "history.jsonl"
    assert Settings.from_env({"HOTLINE_ROUTING_HISTORY": ""}, base=tmp_path).routing_history is None
    with db.transaction() as session:
        history(session)
        corrections(session, 2)
    learned = replace(settings, routing_history=read.routing_history)
    outcome = run_learning(learned, db, now=NOW)
    assert outcome["status"] == "learned"
    with db.transaction() as session:
        notes = session.get(RulesetRecord, outcome["ruleset_id"]).notes
    assert notes.startswith("定期学习：历史样本 4 行、"), notes
