"""Database tables (SQLAlchemy 2.x typed models). Alembic migrations mirror these exactly."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base, UTCDateTime
from .domain.states import Channel, Priority, Role, Status, UnitKind


def _enum_check(column: str, values: type) -> CheckConstraint:
    allowed = ", ".join(f"'{v.value}'" for v in values)  # type: ignore[attr-defined]
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_allowed")


class RulesetStatus:
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"
    ALL = (DRAFT, ACTIVE, ARCHIVED)


class Unit(Base):
    """A responsible unit: a department (条) or a territorial cell (块) down to the grid."""

    __tablename__ = "units"
    __table_args__ = (_enum_check("kind", UnitKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(200))
    # The unit's own system, told of its tickets (JSON, signed with the secret).
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(100))
    # Other names the unit goes by in call-centre exports (市城管局, 和平街道办事处...).
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The unit's own back office speaking Open311 GeoReport v2: its tickets are posted there
    # and their progress read back (notifications' open311 channel, hotline.background).
    open311_endpoint: Mapped[str | None] = mapped_column(String(500))  # base URL, …/v2
    open311_api_key: Mapped[str | None] = mapped_column(String(200))
    open311_service_code: Mapped[str | None] = mapped_column(String(64))
    open311_jurisdiction: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    parent: Mapped[Unit | None] = relationship(remote_side=[id])


class Category(Base):
    """A complaint category; ``code`` doubles as the Open311 service_code."""

    __tablename__ = "categories"
    __table_args__ = (_enum_check("priority", Priority),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    group_name: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(String(500), default="")
    default_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    territorial: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[str] = mapped_column(String(20), default=Priority.NORMAL.value)
    time_limit: Mapped[str] = mapped_column(String(30), default="ordinary")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Open311: the questions asked with a report of this kind (the service definition's
    # attributes; metadata=true when there are any) and the service type.
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    service_type: Mapped[str] = mapped_column(String(10), default="realtime",
                                              server_default="realtime")  # fmt: skip

    default_unit: Mapped[Unit | None] = relationship()


ticket_co_units = Table(
    "ticket_co_units",
    Base.metadata,
    Column("ticket_id", ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id"), primary_key=True, index=True),
    # When this co-unit reported its part (协办报告); cleared when the clock restarts.
    Column("reported_at", UTCDateTime(), nullable=True),
)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        _enum_check("status", Status),
        _enum_check("priority", Priority),
        _enum_check("channel", Channel),
        CheckConstraint("supervision_level BETWEEN 0 AND 3", name="supervision_level_range"),
        # Worklists: a unit's open tickets by deadline.
        Index("ix_tickets_status_lead_unit_resolve_by", "status", "lead_unit_id", "resolve_by"),
        Index("ix_tickets_created_at", "created_at"),
        # An SMS reply finds the resident's ticket awaiting a rating by the phone it came from.
        Index("ix_tickets_reporter_phone_status", "reporter_phone", "status"),
        # A call-centre work order is imported once per source, however often it is sent.
        UniqueConstraint("external_source", "external_ref"),
        # The privacy sweep: closed tickets whose residents' data is still kept, oldest first.
        Index(
            "ix_tickets_closed_at_unerased",
            "closed_at",
            postgresql_where=text("personal_data_erased_at IS NULL"),
            sqlite_where=text("personal_data_erased_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_source: Mapped[str | None] = mapped_column(String(40))  # e.g. 12345
    external_ref: Mapped[str | None] = mapped_column(String(64))  # its work-order number
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the call, if earlier
    order_kind: Mapped[str | None] = mapped_column(String(20))  # 投诉举报、求助… (12345 工单类型)
    title: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    reporter_name: Mapped[str | None] = mapped_column(String(50))
    reporter_phone: Mapped[str | None] = mapped_column(String(20))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)  # no SMS to the resident
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=Status.REPORTED.value)
    priority: Mapped[str] = mapped_column(String(20), default=Priority.NORMAL.value)
    accept_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    feedback_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolve_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The SLA clock: when the current unit got it, and the milestones it reached.
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    return_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    extensions_used: Mapped[int] = mapped_column(Integer, default=0)
    # Callbacks (回访) that reached nobody or were refused, since it was last resolved.
    callback_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A supervisor let the lead unit resolve without (all) its co-units' reports.
    co_units_waived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The sweep's own bookkeeping, nothing else: {"warned": [...], "overdue": [...]}, the
    # deadlines it already warned about or marked. Reset when the clock restarts.
    sla: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    supervision_level: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    resolved_confirmed: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction: Mapped[str | None] = mapped_column(String(20))
    # Random per-ticket salt; the tracking token is an HMAC of number + salt (see tracking.py).
    tracking_salt: Mapped[str] = mapped_column(String(32))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The street/community/grid where it happened (块), found by routing or chosen by a person.
    territorial_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # Which ruleset version routed it, and its decision with the explanation shown to operators.
    ruleset_id: Mapped[int | None] = mapped_column(ForeignKey("rulesets.id"))
    routing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # When the resident's name, phone and photos were erased (retention or their request);
    # the ticket itself stays for the statistics.
    personal_data_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The one-time key of the public form that created it: a second post of the same form
    # (a double tap, the back button) finds this ticket instead of filing another.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Residents who said 我也遇到了 (``TicketFollower`` rows), kept here for worklists and
    # hotspots: the ticket weighs 1 + this many residents.
    follower_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Answers to the category's questions ({attribute code: value or [values]}), and what an
    # Open311 client sent of its own (media_url, account_id, device_id; e-mail is personal).
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    media_url: Mapped[str | None] = mapped_column(String(500))
    reporter_email: Mapped[str | None] = mapped_column(String(200))
    client_ids: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    category: Mapped[Category | None] = relationship()
    lead_unit: Mapped[Unit | None] = relationship(foreign_keys=[lead_unit_id])
    territorial_unit: Mapped[Unit | None] = relationship(foreign_keys=[territorial_unit_id])
    co_units: Mapped[list[Unit]] = relationship(secondary=ticket_co_units)
    duplicate_of: Mapped[Ticket | None] = relationship(remote_side=[id])
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="ticket", order_by="Attachment.id"
    )
    # The extension request waiting for a supervisor, if any (at most one, see the index).
    pending_extension: Mapped[ExtensionRequest | None] = relationship(
        primaryjoin="and_(ExtensionRequest.ticket_id == Ticket.id, "
                    "ExtensionRequest.decided_at.is_(None))",
        viewonly=True, uselist=False,
    )  # fmt: skip

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (SQLAlchemy's own API)


class TicketFollower(Base):
    """A resident who met the same problem (我也遇到了) and hears of its progress by SMS."""

    __tablename__ = "ticket_followers"
    __table_args__ = (UniqueConstraint("ticket_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LookupCode(Base):
    """A 6-digit code sent by SMS to a ticket's phone so the resident can open its tracking
    page from the number and phone alone. Only a hash of the code is kept."""

    __tablename__ = "lookup_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # wrong codes entered
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InboundSms(Base):
    """A resident's SMS reply as the gateway delivered it, once per gateway message id."""

    __tablename__ = "inbound_sms"

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway_id: Mapped[str] = mapped_column(String(100), unique=True)
    phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(String(500))
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    outcome: Mapped[str] = mapped_column(String(30))  # rated, unknown_reply, no_ticket, ...
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TicketEvent(Base):
    """Append-only history of a ticket: timelines, metrics and audits are computed from it."""

    __tablename__ = "ticket_events"
    __table_args__ = (UniqueConstraint("ticket_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(100))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    ticket: Mapped[Ticket] = relationship()


class ExtensionRequest(Base):
    """A lead unit's request for more time (延期) and the supervisor's decision on it.

    ``decided_at`` empty means it waits; ``approved`` empty with ``decided_at`` set means it
    was withdrawn because the ticket's clock restarted (re-dispatched, reopened)."""

    __tablename__ = "extension_requests"
    __table_args__ = (
        # One waiting request per ticket.
        Index("uq_extension_requests_waiting", "ticket_id", unique=True,
              postgresql_where=text("decided_at IS NULL"),
              sqlite_where=text("decided_at IS NULL")),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                           index=True)  # fmt: skip
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    reason: Mapped[str] = mapped_column(Text)
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved: Mapped[bool | None] = mapped_column(Boolean)
    decision_note: Mapped[str | None] = mapped_column(Text)


class Attachment(Base):
    """A photo stored on disk under a random name; the database keeps its metadata."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_events.id"))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    original_name: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    ticket: Mapped[Ticket] = relationship(back_populates="attachments")
    event: Mapped[TicketEvent | None] = relationship()


class TicketCounter(Base):
    """Last sequence used per local day; the row lock makes numbers gapless under concurrency."""

    __tablename__ = "ticket_counters"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (_enum_check("role", Role),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set by an admin's password reset: the user chooses a new one at the next sign-in.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    unit: Mapped[Unit | None] = relationship()


class InboxRead(Base):
    """A staff member has read an inbox item (a message addressed to their unit or role);
    unread ones are counted in the console's header."""

    __tablename__ = "inbox_reads"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)  # fmt: skip
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"),
                                            primary_key=True, index=True)  # fmt: skip
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StaffSession(Base):
    """One sign-in in a browser. The cookie carries a random token (only its SHA-256 is kept
    here), so logging out, a password change or deactivation end it on the server."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Refreshed at most once a minute; a session unused for the idle limit is over.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginFailure(Base):
    """A refused sign-in, counted per (username, address) and per address over a short
    window. Unknown usernames count alike, so the counts say nothing about who exists; the
    username is kept only as a SHA-256 (people type passwords into that field)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_address_created_at", "address", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username_hash: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ApiToken(Base):
    """A machine client's bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class IdempotencyKey(Base):
    """Remembers which ticket an ``Idempotency-Key`` created, per client, with the body's hash.

    The row is claimed before the ticket is created (``ticket_id`` still empty) so that a
    concurrent request with the same key waits on the unique index instead of creating twice.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    ticket: Mapped[Ticket | None] = relationship()


class RulesetRecord(Base):
    """One version of a routing ruleset. Drafts are edited in place; the active one and the
    archived ones are frozen, so a ticket's ``ruleset_id`` always says what routed it."""

    __tablename__ = "rulesets"
    __table_args__ = (
        UniqueConstraint("name", "version"),
        CheckConstraint("status IN ('draft', 'active', 'archived')", name="status_allowed"),
        # At most one active ruleset.
        Index(
            "uq_rulesets_one_active",
            "status",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=RulesetStatus.DRAFT)
    source: Mapped[str] = mapped_column(String(20))  # seed, import, learn, copy, api
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    activated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A learned draft's shadow evaluation against the ruleset that was active when it was
    # learned, and its readable changes (services/shadow.py); None for other drafts.
    evaluation: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AuditEvent(Base):
    """Append-only record of administrative acts (ruleset activation, ...)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject: Mapped[str] = mapped_column(String(100))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class RoutingCorrection(Base):
    """An operator sent a ticket somewhere other than routing said: a training row."""

    __tablename__ = "routing_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    ruleset_id: Mapped[int | None] = mapped_column(ForeignKey("rulesets.id"))
    text: Mapped[str] = mapped_column(Text)
    predicted_label: Mapped[str | None] = mapped_column(String(100))
    predicted_category: Mapped[str | None] = mapped_column(String(40))
    predicted_unit: Mapped[str | None] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(40))
    lead_unit: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class CalendarDay(Base):
    """A local override of the national working-day schedule (a day off, or a working day)."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(100))


class OutboxMessage(Base):
    """A notification to send, written in the same transaction as the change that causes it.

    The notifications workers read pending rows after commit and deliver them; the id is the
    idempotency key given to providers. Redis only carries work: this table is the record.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_next_attempt_at", "status",
                            "next_attempt_at"),)  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_events.id"))
    audience: Mapped[str] = mapped_column(String(20))  # resident, unit, supervisor
    recipient: Mapped[str | None] = mapped_column(String(200))  # phone, unit code, ...
    template: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    ticket: Mapped[Ticket | None] = relationship()
    event: Mapped[TicketEvent | None] = relationship()


class NotificationTemplate(Base):
    """An admin's version of a notification text; keys without a row use the built-in one
    (``hotline.domain.templates.DEFAULTS``)."""

    __tablename__ = "notification_templates"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)  # e.g. resident.accepted
    body: Mapped[str] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(String(200))  # e-mail subject
    # The id an SMS vendor gave this text when it approved it (vendors send approved
    # templates with parameters, not free text).
    sms_template_id: Mapped[str | None] = mapped_column(String(60))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ImportBatch(Base):
    """One call-centre file being imported: where it is, how far it got, what it did.

    Rows are applied in chunks, each committed with ``rows_done`` and the counts, so a
    killed import resumes after the last committed chunk.
    """

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(String(500))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    file_format: Mapped[str] = mapped_column(String(10))  # csv, xlsx
    encoding: Mapped[str | None] = mapped_column(String(20))
    sheet: Mapped[str | None] = mapped_column(String(100))
    preset: Mapped[str | None] = mapped_column(String(40))
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON)  # the resolved field → column map
    # pending queued running done failed cancelled
    status: Mapped[str] = mapped_column(String(20), index=True)
    # live: orders to handle now; history: orders as they were handled (see services/history.py)
    mode: Mapped[str] = mapped_column(String(10), default="live", server_default="live")
    total_rows: Mapped[int | None] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # of created
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)  # unknown columns, ...
    error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    file_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # retention


class ImportRejection(Base):
    """A row that was not imported, why, and its cells (to download, fix and re-import)."""

    __tablename__ = "import_rejections"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE"), index=True
    )
    row_number: Mapped[int] = mapped_column(Integer)  # as a spreadsheet shows it (header = 1)
    column_name: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    cells: Mapped[list[str]] = mapped_column(JSON)


class Open311Token(Base):
    """A report to a batch service: accepted now, made a ticket when processed; the token
    answers GET tokens/{token} until then (and the ticket's number after)."""

    __tablename__ = "open311_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    service_code: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # the checked submission
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    error: Mapped[str | None] = mapped_column(Text)


class Open311Link(Base):
    """A ticket as posted to a unit's own Open311 system: the remote request (or its token
    until the remote side numbers it) and what we last read of it."""

    __tablename__ = "open311_links"
    __table_args__ = (UniqueConstraint("ticket_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    remote_id: Mapped[str | None] = mapped_column(String(64))
    remote_token: Mapped[str | None] = mapped_column(String(64))
    remote_status: Mapped[str | None] = mapped_column(String(20))  # open / closed
    remote_notes: Mapped[str | None] = mapped_column(Text)  # the last status_notes seen
    remote_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
