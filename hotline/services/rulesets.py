"""Ruleset versions: drafts checked against the city, copies, and activation (audited)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from routing import rules as rules_mod
from routing.gazetteer_file import GazetteerFileError, export_rows, merge_places, read_places
from routing.rules import Place, RulesetError

from ..errors import Conflict, NotFound, ValidationFailed
from ..models import RulesetRecord, RulesetStatus
from . import audit
from .actors import SYSTEM, Actor
from .router_cache import CityModel, build_ruleset


def parse_ruleset_text(text: str, fmt: str) -> dict[str, Any]:
    """YAML or CSV text → the ruleset mapping, still marked with line numbers so that
    validation against the city can name them."""
    return rules_mod.csv_to_data(text) if fmt == "csv" else rules_mod.yaml_to_data(text)


def ruleset_problem(exc: RulesetError) -> ValidationFailed:
    return ValidationFailed(
        {"ruleset": [str(exc).splitlines()[i] for i in range(len(exc.problems))]},
        detail="规则集有误，未作任何保存：" + "；".join(str(exc).splitlines()[:3]),
    )


def get_ruleset(session: Session, ruleset_id: int) -> RulesetRecord:
    record = session.get(RulesetRecord, ruleset_id)
    if record is None:
        raise NotFound(f"未找到规则集 {ruleset_id}")
    return record


def find_ruleset(session: Session, ref: str | None) -> RulesetRecord:
    """By id, by name (its newest version), or the active one when ``ref`` is empty."""
    if not ref:
        record = session.scalar(
            select(RulesetRecord).where(RulesetRecord.status == RulesetStatus.ACTIVE)
        )
        if record is None:
            raise NotFound("没有生效中的规则集")
        return record
    if ref.isdigit():
        return get_ruleset(session, int(ref))
    record = session.scalar(
        select(RulesetRecord)
        .where(RulesetRecord.name == ref)
        .order_by(RulesetRecord.version.desc())
        .limit(1)
    )
    if record is None:
        raise NotFound(f"未找到规则集 {ref}")
    return record


def create_ruleset(
    session: Session,
    data: dict[str, Any],
    *,
    source: str,
    now: datetime,
    actor: Actor = SYSTEM,
    name: str | None = None,
    notes: str | None = None,
) -> RulesetRecord:
    """A new draft version; the data must be valid for this city or nothing is saved."""
    data = dict(data)
    if name:
        data["name"] = name
    try:
        ruleset = build_ruleset(data, CityModel.load(session))
    except RulesetError as exc:
        raise ruleset_problem(exc) from exc
    # Stored in canonical form: defaults spelled out, line markers gone, numbers as floats.
    data = ruleset.to_dict()
    latest = session.scalar(
        select(func.max(RulesetRecord.version)).where(RulesetRecord.name == ruleset.name)
    )
    record = RulesetRecord(
        name=ruleset.name, version=(latest or 0) + 1, status=RulesetStatus.DRAFT, source=source,
        data=data, notes=notes, created_at=now, created_by_id=actor.user_id, updated_at=now,
    )  # fmt: skip
    session.add(record)
    session.flush()
    return record


def update_draft(
    session: Session, record: RulesetRecord, data: dict[str, Any], *, now: datetime
) -> RulesetRecord:
    if record.status != RulesetStatus.DRAFT:
        raise Conflict("只能修改草稿；请先复制为新的草稿版本")
    data = {**data, "name": record.name}
    try:
        ruleset = build_ruleset(data, CityModel.load(session))
    except RulesetError as exc:
        raise ruleset_problem(exc) from exc
    record.data = ruleset.to_dict()
    record.updated_at = now
    session.flush()
    return record


def copy_as_draft(
    session: Session, record: RulesetRecord, *, now: datetime, actor: Actor
) -> RulesetRecord:
    return create_ruleset(
        session, copy.deepcopy(record.data), source="copy", now=now, actor=actor,
        notes=f"复制自 {record.name} v{record.version}",
    )  # fmt: skip


def activate(
    session: Session, record: RulesetRecord, *, now: datetime, actor: Actor
) -> RulesetRecord:
    """Make ``record`` the one active ruleset; the previous one is archived. Audited."""
    if record.status == RulesetStatus.ACTIVE:
        return record
    try:
        build_ruleset(record.data, CityModel.load(session))  # the city may have changed
    except RulesetError as exc:
        raise ruleset_problem(exc) from exc
    previous = session.scalar(
        select(RulesetRecord).where(RulesetRecord.status == RulesetStatus.ACTIVE)
    )
    session.execute(
        update(RulesetRecord)
        .where(RulesetRecord.status == RulesetStatus.ACTIVE)
        .values(status=RulesetStatus.ARCHIVED, updated_at=now)
    )
    record.status = RulesetStatus.ACTIVE
    record.activated_at = now
    record.activated_by_id = actor.user_id
    record.updated_at = now
    audit.record(session, "ruleset.activated", f"ruleset:{record.id}", actor, now, {
        "ruleset": {"id": record.id, "name": record.name, "version": record.version},
        "previous": None if previous is None else {
            "id": previous.id, "name": previous.name, "version": previous.version,
        },
    })  # fmt: skip
    session.flush()
    return record


# ---------------------------------------------------------------- the gazetteer as a file


@dataclass(frozen=True)
class PlacesImport:
    """What an import of a gazetteer file made (or, on a dry run, would make)."""

    base: RulesetRecord  # the version whose rules and other places the new one starts from
    record: RulesetRecord | None  # the new draft; None on a dry run
    rows: int  # places read from the file
    replaced: int  # existing places a merge replaced (same name)
    total: int  # places in the new version
    located: int  # of which with coordinates
    merge: bool

    def counts(self) -> str:
        """The figures as the admin reads them."""
        replaced = f"，替换同名 {self.replaced:,} 个" if self.merge else ""
        return (f"文件中 {self.rows:,} 个地名{replaced}，"
                f"新版本共 {self.total:,} 个（{self.located:,} 个有坐标）")  # fmt: skip


def places_problem(exc: GazetteerFileError) -> ValidationFailed:
    lines = exc.lines()
    return ValidationFailed(
        {"places": lines},
        detail="地名库文件有误，未作任何保存：" + "；".join(lines[:3]),
    )


def import_places(
    session: Session,
    header: Sequence[str],
    rows: Iterable[tuple[int, Sequence[str]]],
    *,
    now: datetime,
    actor: Actor = SYSTEM,
    ref: str | None = None,
    merge: bool = False,
    dry_run: bool = False,
    filename: str | None = None,
) -> PlacesImport:
    """A new draft version of ruleset ``ref`` (default: the active one) whose places are
    the file's (or, with ``merge``, the base's with the file's laid over them by name).
    All or nothing: any problem in the file is a ValidationFailed naming its lines. The
    active ruleset is untouched until an admin activates the draft."""
    base = find_ruleset(session, ref)
    city = CityModel.load(session)
    try:
        imported = read_places(header, rows, units=city.units)
        if merge:
            existing = rules_mod.from_dict(base.data).places
            places, replaced = merge_places(existing, imported)
        else:
            places, replaced = [row.place for row in imported], 0
    except GazetteerFileError as exc:
        raise places_problem(exc) from exc
    data = copy.deepcopy(base.data)
    data["places"] = [_place_data(p) for p in places]
    located = sum(1 for p in places if p.lat is not None)
    if dry_run:
        try:
            build_ruleset(data, city)
        except RulesetError as exc:
            raise ruleset_problem(exc) from exc
        return PlacesImport(base, None, len(imported), replaced, len(places), located, merge)
    how = "合并进" if merge else "替换"
    # The name as the client sent it: its last path part, printable, bounded.
    shown = "".join(c for c in (filename or "") if c.isprintable()).replace("\\", "/")
    shown = shown.rsplit("/", 1)[-1].strip()[:100]
    notes = (f"地名库{how} {base.name} v{base.version}：文件{f' {shown}' if shown else ''}"
             f" {len(imported)} 个地名，共 {len(places)} 个")  # fmt: skip
    record = create_ruleset(session, data, source="places", now=now, actor=actor,
                            name=base.name, notes=notes)  # fmt: skip
    audit.record(session, "ruleset.places_imported", f"ruleset:{record.id}", actor, now, {
        "ruleset": {"id": record.id, "name": record.name, "version": record.version},
        "base": {"id": base.id, "version": base.version}, "merge": merge,
        "rows": len(imported), "places": len(places),
    })  # fmt: skip
    return PlacesImport(base, record, len(imported), replaced, len(places), located, merge)


def _place_data(place: Place) -> dict[str, Any]:
    data: dict[str, Any] = {"name": place.name, "unit": place.unit}
    if place.aliases:
        data["aliases"] = list(place.aliases)
    if place.lat is not None and place.lng is not None:
        data["lat"], data["lng"] = place.lat, place.lng
    return data


def places_rows(record: RulesetRecord) -> Iterator[list[str]]:
    """Ruleset version ``record``'s places as the file an import reads (header first)."""
    return export_rows(rules_mod.from_dict(record.data).places)
