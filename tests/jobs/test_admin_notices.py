"""The notice that a learned routing draft waits for review, end to end: the scheduler's
learning job writes it, the outbox hands it to a worker, the worker mails it to the admins'
address over SMTP (a local receiver of this file's own), a refused mail is retried and never
sent twice, and the admin's inbox links the draft's page."""

from __future__ import annotations

import re
import socketserver
import threading
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import select, update

import hotline.background.learning as learning
import hotline.background.periodic as periodic
import notifications.jobs as jobs
from hotline.background.learning import run_learning
from hotline.models import OutboxMessage, User
from hotline.services.auth import hash_password
from notifications.outbox import flush
from tests.helpers import auth, form_post, signed_in
from tests.helpers.learning_city import NOW, corrections, history
from tests.helpers.rq_workers import BurstWorker

BASE = "https://12345.example.gov.cn"
TEMPLATE = "admin.routing_draft_ready"


class SmtpReceiver:
    """Just enough SMTP on 127.0.0.1 for ``smtplib``: EHLO, MAIL, RCPT, DATA, QUIT. ``script``
    holds the answers to give at the end of DATA (then 250); mails are kept as answered."""

    def __init__(self) -> None:
        self.script: list[str] = []
        self.accepted: list[EmailMessage] = []
        self.refused: list[EmailMessage] = []
        receiver = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.say("220 127.0.0.1 test SMTP")
                while line := self.rfile.readline():
                    verb = line.decode("ascii", "replace").strip().upper()
                    if verb.startswith(("EHLO", "HELO")):
                        self.say("250 127.0.0.1")
                    elif verb.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                        self.say("250 OK")
                    elif verb == "DATA":
                        self.say("354 go ahead")
                        receiver._take(self._data(), self)
                    elif verb == "QUIT":
                        self.say("221 bye")
                        return
                    else:
                        self.say("502 not implemented")

            def _data(self) -> bytes:
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                    lines.append(line[1:] if line.startswith(b"..") else line)
                return b"".join(lines)

            def say(self, text: str) -> None:
                self.wfile.write(text.encode("ascii") + b"\r\n")
                self.wfile.flush()

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def _take(self, data: bytes, handler) -> None:  # type: ignore[no-untyped-def]
        answer = self.script.pop(0) if self.script else "250 queued"
        mail = message_from_bytes(data, policy=policy.default)
        (self.accepted if answer.startswith("250") else self.refused).append(mail)
        handler.say(answer)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def smtp():
    server = SmtpReceiver()
    yield server
    server.close()


@pytest.fixture
def mailing(settings, smtp):
    return replace(settings, smtp_host="127.0.0.1", smtp_port=smtp.port, public_base_url=BASE)


@pytest.fixture
def mail_admin(make_user, db):
    """An admin of a unit with an e-mail address (民政局's), who can sign in."""
    user_id, _ = make_user("admin-mail", "admin", "dept-mzj")
    with db.transaction() as session:
        session.execute(update(User).where(User.id == user_id)
                        .values(password_hash=hash_password("pw-admin-mail")))  # fmt: skip
    return "mzj@shifan.example"


def _text(mail: EmailMessage) -> str:
    return mail.get_body(("plain",)).get_content().strip()


def _rows(db) -> list[OutboxMessage]:
    with db.transaction() as session:
        rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.template == TEMPLATE)
                                    .order_by(OutboxMessage.id)))  # fmt: skip
        session.expunge_all()
    return rows


def test_the_weekly_draft_is_mailed_by_a_worker_and_linked_in_the_inbox(
    app, db, mailing, smtp, mail_admin, redis_url, monkeypatch
) -> None:
    up = replace(mailing, redis_url=redis_url)
    for module in (periodic, jobs):
        monkeypatch.setattr(module, "runtime", lambda: (up, db))
    monkeypatch.setattr(learning, "utc_now", lambda: NOW)  # the city's tickets are near NOW
    connection = Redis.from_url(redis_url)
    queues = [Queue(name, connection=connection, serializer=JSONSerializer)
              for name in ("periodic", "notifications", "imports")]  # fmt: skip
    for queue in queues:
        queue.empty()
    with db.transaction() as session:
        history(session)
        corrections(session)
    try:
        cron = periodic.JsonCronScheduler(connection)
        for task in periodic.tasks(drains=[jobs.drain_outbox]):
            cron.register_task(task)
        assert len(cron.enqueue_jobs()) == 7
        worker = BurstWorker(queues, connection=connection, serializer=JSONSerializer)
        worker.work(burst=True)  # the learning job writes the notice
        inbox_row, mail_row = _rows(db)
        assert (inbox_row.recipient, inbox_row.status) == (None, "sent")
        assert (mail_row.recipient, mail_row.status) == (mail_admin, "pending")
        assert jobs.drain_outbox() >= 1  # the scheduler's next round hands it to Redis
        worker.work(burst=True)
    finally:
        for queue in queues:
            queue.empty()

    (mail,) = smtp.accepted
    mail_row = _rows(db)[1]
    assert mail_row.status == "sent" and mail_row.attempts == 1
    path = mail_row.payload["link_path"]
    ruleset_id = int(path.rsplit("/", 1)[1])
    assert mail["To"] == mail_admin and mail["Message-ID"] == f"<outbox-{mail_row.id}@hotline>"
    assert re.fullmatch(r"分派规则草稿 .+ v\d+ 已生成，待审阅", mail["Subject"]), mail["Subject"]
    body = _text(mail)
    assert body.startswith("已从近期工单和话务员改派记录学习生成分派规则草稿")
    assert "准确率" in body and "（不会自动启用）" in body
    assert body.endswith(f"确认更好后再启用：{BASE}{path}")

    # The admin's inbox: the notice once (the e-mail rows are not inbox items), with the link.
    admin = signed_in(app, "admin-mail", "pw-admin-mail")
    page = admin.get("/console/inbox").get_data(as_text=True)
    assert "以及待审阅的分派规则草稿，无论短信或邮件是否发出" in page
    (item,) = re.findall(r'<li class="inbox-item[^"]*".*?</li>', page, re.S)
    assert "规则草稿待审" in item and "未读" in item and "准确率" in item
    link = f'<a href="/console/admin/routing/{ruleset_id}#shadow">查看草稿的影子评估和变化</a>'
    assert link in item
    assert "inbox-ticket" not in item  # no ticket: no empty ticket line
    draft = admin.get(path).get_data(as_text=True)
    assert 'id="shadow"' in draft
    # A supervisor's inbox does not have it, nor the wording.
    supervisor = signed_in(app, "supervisor", "demo-supervisor-1")
    theirs = supervisor.get("/console/inbox").get_data(as_text=True)
    assert "规则草稿" not in theirs


def test_a_refused_mail_is_retried_and_sent_once_with_the_admins_text(app, client, db, mailing,
                                                                      smtp) -> None:  # fmt: skip
    # The API lists the notice with its audience and refuses a ticket's variable in it.
    listed = client.get("/api/v1/templates", headers=auth("hl_demo_admin")).json
    (mine,) = [item for item in listed if item["key"] == TEMPLATE]
    assert (mine["audience"], mine["audience_name"]) == ("admin", "系统管理员")
    assert set(mine["variables"]) == {"ruleset", "active", "figures", "page"}
    refused = client.put(f"/api/v1/templates/{TEMPLATE}", headers=auth("hl_demo_admin"),
                         json={"body": "{{ ruleset }} {{ address }}"})  # fmt: skip
    assert refused.status_code == 422 and refused.content_type == "application/problem+json"
    # The admin rewrites the notice on 通知模板: a variable it does not have is refused there.
    admin = signed_in(app, "admin", "demo-admin-1")
    page = "/console/admin/templates"
    listed = admin.get(page).get_data(as_text=True)
    assert f'id="t-{TEMPLATE}"' in listed and "系统管理员" in listed
    assert "{{ figures }}（影子评估的对比数字" in listed
    bad = form_post(admin, f"/console/admin/templates/{TEMPLATE}", page,
                    body="工单{{ number }}：{{ ruleset }}")  # fmt: skip
    assert bad.status_code == 422
    assert "发给系统管理员的模板不能使用：number" in bad.get_data(as_text=True)
    good = form_post(admin, f"/console/admin/templates/{TEMPLATE}", page,
                     body="【待审】{{ ruleset }}，对比 {{ active }}：{{ figures }}审阅：{{ page }}",
                     subject="待审阅：{{ ruleset }}")  # fmt: skip
    assert good.status_code == 303

    with db.transaction() as session:
        history(session)
        corrections(session, 3)
    smtp.script = ["451 4.3.0 try again later"]
    assert run_learning(mailing, db, now=NOW)["status"] == "learned"
    # No Redis: the hand-on delivers in this process, as the embedded setup does.
    (mail_id,) = flush(mailing, db, now=NOW)
    row = _rows(db)[1]
    assert row.id == mail_id and row.recipient == "wmb@shifan.example"  # the office's address
    assert row.status == "pending" and "451" in row.last_error and len(smtp.refused) == 1
    assert row.next_attempt_at == NOW + timedelta(seconds=jobs.BACKOFF[0])
    assert flush(mailing, db, now=NOW + timedelta(seconds=5)) == []  # not due yet
    assert flush(mailing, db, now=NOW + timedelta(seconds=11)) == [mail_id]
    assert jobs.deliver(mail_id, context=(mailing, db)) == "skipped"  # a late duplicate job
    (mail,) = smtp.accepted
    row = _rows(db)[1]
    assert row.status == "sent" and row.attempts == 2 and row.last_error is None
    key = f"<outbox-{mail_id}@hotline>"  # the same on every attempt: mail systems dedupe
    assert mail["Message-ID"] == smtp.refused[0]["Message-ID"] == key
    assert mail["Subject"].startswith("待审阅：")
    text = _text(mail)
    assert text.startswith("【待审】") and f"审阅：{BASE}/console/admin/routing/" in text
    assert _rows(db)[0].payload["body"] == text  # the inbox says the same
