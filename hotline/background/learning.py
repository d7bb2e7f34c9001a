"""The learning loop's job: learn a routing draft from the city's tickets and corrections,
score it against the active ruleset (shadow evaluation), save it as a draft and tell the
admins. Never activates anything: a person does, on the draft's page.

One job for both triggers: the scheduler ticks it hourly and it runs when a week has passed
since the last run (kept in the database, so a scheduler restart neither runs it at every
start nor skips it), or when an admin pressed 立即学习新草稿 (the request is in the database
too: a Redis that lost the job loses nothing, the next tick takes the request up). Three
steps, as in ``services.training``: a short read, the slow learning and routing outside any
transaction, a short write.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from routing.rules import RulesetError

from ..config import Settings
from ..db import Database
from ..domain.clock import utc_now
from ..domain.templates import DEFAULTS, RenderError, render
from ..errors import ValidationFailed
from ..models import RulesetRecord, RulesetStatus
from ..services import relearn, shadow
from ..services.actors import SYSTEM
from ..services.inbox import admin_notice
from ..services.router_cache import CityModel, build_ruleset
from ..services.rulesets import create_ruleset
from ..services.training import learn_draft

log = logging.getLogger(__name__)

TEMPLATE = "admin.routing_draft_ready"
KIND = "routing_draft_ready"
RULESET_PATH = "/console/admin/routing/{id}"
DEFAULT_NAME = "学习所得规则"
# Names the labelled file the city's rules were first learned from (Settings.routing_history):
# learned again with every run, when set.
HISTORY_ENV = "HOTLINE_ROUTING_HISTORY"
TEXT_COLUMNS = ("text", "诉求内容", "问题描述", "内容", "content")
LABEL_COLUMNS = ("label", "标签", "类别", "分类", "诉求类型", "承办单位")


def history_rows(path: str | Path | None) -> tuple[list[str], list[str]] | None:
    """(texts, labels) of the base history file, or None without one."""
    if not path:
        return None
    from ..importers.tables import TableError, column_text, read_rows

    try:
        rows = read_rows(Path(path))
    except (OSError, TableError) as exc:  # learn from the tickets alone; say why
        log.warning("%s=%s cannot be read (%s); learning without it", HISTORY_ENV, path, exc)
        return None
    if not rows:
        return None
    header = list(rows[0])
    text = next((c for c in TEXT_COLUMNS if c in header), None)
    label = next((c for c in LABEL_COLUMNS if c in header), None)
    if text is None or label is None:
        log.warning("%s: no text or label column in %s", HISTORY_ENV, path)
        return None
    pairs = [(column_text(row, [text]), (row.get(label) or "").strip()) for row in rows]
    pairs = [(t, g) for t, g in pairs if t.strip() and g]
    return [t for t, _ in pairs], [g for _, g in pairs]


def run_learning(settings: Settings, database: Database, *, now: datetime | None = None,
                 history: tuple[Sequence[str], Sequence[str]] | None = None,
                 history_file: str | Path | None = None) -> dict[str, Any]:  # fmt: skip
    """Claim a run if one is due, learn, evaluate, save the draft and notify. Returns what
    happened: {"status": "skipped" | "learned" | "no_data", ...}. The history file (else
    ``settings.routing_history``) is read only when a run is due (the hourly tick is one
    query otherwise)."""
    moment = now or utc_now()
    with database.transaction() as session:
        run_id = relearn.claim_learning(session, now=moment)
    if run_id is None:
        return {"status": "skipped"}
    try:
        history_file = history_file or settings.routing_history
        if history is None and history_file:
            history = history_rows(history_file)
        outcome = _learn(settings, database, moment, history, run_id)
    except (ValidationFailed, ValueError) as exc:  # nothing to learn: said on the routing page
        detail = exc.detail if isinstance(exc, ValidationFailed) else f"无法学习（{exc}）"
        outcome = {"status": "no_data", "detail": detail[:500]}
        with database.transaction() as session:
            relearn.finish_learning(session, run_id, now=moment, outcome=outcome)
    # Anything else propagates: the run's lease runs out and the next tick tries again.
    return outcome


def _learn(settings: Settings, database: Database, now: datetime,
           history: tuple[Sequence[str], Sequence[str]] | None,
           run_id: int) -> dict[str, Any]:  # fmt: skip
    with database.transaction() as session:
        city = CityModel.load(session)
        record = session.scalar(
            select(RulesetRecord).where(RulesetRecord.status == RulesetStatus.ACTIVE)
        )
        active = None
        active_info = None
        if record is not None:
            try:
                active = build_ruleset(record.data, city)
                active_info = {"id": record.id, "name": record.name, "version": record.version}
            except RulesetError:
                active = None  # the city changed under it: compare with nothing
        gathered = relearn.city_training(session, now=now, base=active, history=history)
        sets = shadow.shadow_sets(session, city, now=now)
    name = active_info["name"] if active_info else DEFAULT_NAME
    learned = learn_draft(gathered.training, name=name)  # seconds: no transaction is open
    draft = build_ruleset(learned.to_dict(), city)
    figures, changes, examples = shadow.shadow_evaluation(draft, active, sets, city)
    evaluation = {
        "kind": "shadow", "learned_at": now.isoformat(), "active": active_info,
        "training": {**gathered.counts(), "window_days": relearn.WINDOW_DAYS,
                     "ticket_cap": relearn.TICKET_CAP},
        "sets": figures, "changes": changes, "examples": examples,
    }  # fmt: skip
    with database.transaction() as session:
        saved = create_ruleset(session, learned.to_dict(), source="learn", now=now, actor=SYSTEM,
                               notes=_notes(gathered))  # fmt: skip
        saved.evaluation = evaluation
        session.flush()
        label = f"{saved.name} v{saved.version}"
        _notify(session, settings, saved.id, label, evaluation, now)
        outcome = {"status": "learned", "ruleset_id": saved.id, "label": label}
        relearn.finish_learning(session, run_id, now=now, outcome=outcome)
    log.info("learned routing draft %s from %s rows", label, len(gathered.training.texts))
    return outcome


def _notes(gathered: relearn.CityTraining) -> str:
    parts = []
    if gathered.from_history:
        parts.append(f"历史样本 {gathered.from_history} 行")
    parts.append(f"已办工单 {gathered.from_tickets} 件")
    if gathered.from_returns:
        parts.append(f"退单后改派或裁决的工单 {gathered.from_returns} 件")
    parts.append(f"改派记录 {gathered.from_corrections} 条")
    return "定期学习：" + "、".join(parts)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def figures_text(evaluation: dict[str, Any]) -> str:
    """The comparison in one paragraph (草稿 first, 生效中 in brackets)."""
    parts = []
    for entry in evaluation["sets"]:
        draft, active = entry["draft"], entry["active"] or {}
        if not draft["n"]:
            parts.append(f"{entry['name']}：无")
            continue
        text = (
            f"{entry['name']} {draft['n']} 件，准确率 {_pct(draft['accuracy'])}"
            f"（生效中 {_pct(active.get('accuracy'))}），"
            f"自动派单 {_pct(draft['coverage'])}（{_pct(active.get('coverage'))}），"
            f"自动派单中正确 {_pct(draft['precision'])}（{_pct(active.get('precision'))}）"
        )
        changes = entry.get("changes")
        if changes:
            text += (f"，{changes['changed']} 个决定改变（{changes['wrong_to_right']} 个由错变对、"
                     f"{changes['right_to_wrong']} 个由对变错）")  # fmt: skip
        parts.append(text)
    return "；".join(parts) + "。"


def _notify(session: Any, settings: Settings, ruleset_id: int, label: str,
            evaluation: dict[str, Any], now: datetime) -> None:  # fmt: skip
    path = RULESET_PATH.format(id=ruleset_id)
    active = evaluation["active"]
    values = {"ruleset": label,
              "active": f"{active['name']} v{active['version']}" if active else "无生效中的规则",
              "figures": figures_text(evaluation),
              "page": (settings.public_base_url or "") + path}  # fmt: skip
    from ..services.templates import get_template

    default = DEFAULTS[TEMPLATE]
    template = get_template(session, TEMPLATE)  # the admins' own text, else the built-in one
    try:
        body, subject = render(template.body, values), render(template.subject, values)
    except RenderError:  # an admin's text that no longer renders: the built-in one
        body, subject = render(default.body, values), render(default.subject, values)
    emails = relearn.admin_emails(session, settings.supervisor_unit)
    admin_notice(session, kind=KIND, template=TEMPLATE, body=body, subject=subject,
                 link_path=path, emails=emails, now=now, values=values)  # fmt: skip


def request_and_start(settings: Settings, database: Database, *, actor: Any,
                      now: datetime) -> tuple[str, dict[str, Any] | None]:  # fmt: skip
    """The console button: record the request, then hand the job to Redis, or (no Redis)
    run it here. Returns (what the request found, the run's outcome when run here)."""
    with database.transaction() as session:
        found = relearn.request_learning(session, actor=actor, now=now)
    if found != "queued":
        return found, None
    if settings.redis_url:
        try:
            enqueue(settings.redis_url)
        except Exception:  # the request is in the database: the hourly tick takes it up
            log.warning("could not enqueue the learning job; the scheduler will run it",
                        exc_info=True)  # fmt: skip
        return found, None
    return found, run_learning(settings, database, now=now)


def enqueue(redis_url: str) -> None:
    from rq import Queue
    from rq.serializers import JSONSerializer

    from ..queues import IMPORTS, hand_on_connection

    # On the imports queue: long work behind everything quick, as the import files are.
    queue = Queue(IMPORTS, connection=hand_on_connection(redis_url), serializer=JSONSerializer)
    queue.enqueue("hotline.background.periodic.learn_routing_draft", job_timeout=3600,
                  result_ttl=3600)  # fmt: skip
