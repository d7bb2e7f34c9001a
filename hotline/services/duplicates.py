"""Likely duplicates: open tickets that may be the same problem as a text being looked at.

One implementation for the four places that ask: the operator's call intake, the
manual-dispatch queue (可能重复), the public form's "already reported?" list and the import.

Candidates come from SQL first — open tickets created within 30 days before the probe, at the
same territorial unit, of the same category or at the same address, newest first and bounded
— and text similarity (routing.similarity, over the active ruleset's terms) ranks them. Many
probes (a page of the queue, an import chunk) share one query and one similarity index.

Thresholds, measured by bench/duplicates.py on near-duplicate pairs of the history data:
listed from ``SUGGEST`` (recall first: a person looks), marked 可能重复 from ``MARK``,
held back by an import from ``LINK``, merged by an import only from ``MERGE`` with the same
caller's phone.
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.orm import Session

from routing.similarity import Budget, Index, Profile, TextSimilarity, cosine

from ..domain.states import FINAL
from ..models import Category, Ticket, Unit
from .router_cache import Compiled

WINDOW = timedelta(days=30)
PER_PROBE = 200  # candidates one probe is compared with
POOL = 5000  # candidates one query brings for many probes (a page of the queue)
IMPORT_POOL = 1000  # for an import chunk: the newest open tickets it may repeat
# An import's search per work order: its 8 rarest words, 200 candidates in sight, the 3
# sharing most of them scored (bench/duplicates.py measures what that misses).
BUDGET = Budget(features=8, postings=200, verify=3)
SUGGEST = 0.5  # listed as 内容相似 (with place or kind in common)
MARK = 0.65  # the queue's 可能重复 mark
LINK = 0.75  # an import holds the work order back for a person
MERGE = 0.9  # with the same caller's phone, an import merges it into the open ticket
TEXT_CHARS = 600  # of title + description: the problem is said long before that
MIN_ADDRESS = 4  # shorter typed addresses ("小区") say nothing


@dataclass(frozen=True)
class Probe:
    """What is compared: a draft, a queued ticket or a work order being imported."""

    text: str
    at: datetime  # candidates were created within WINDOW before this
    address: str | None = None
    category_id: int | None = None
    territorial_unit_id: int | None = None
    phone: str | None = None
    ticket_id: int | None = None  # a ticket already saved: only older ones are its originals
    # Names of its kind and place, for when an import chunk's later row repeats this one.
    category_name: str | None = None
    unit_name: str | None = None


@dataclass(frozen=True)
class Original:
    """A candidate ticket as the suggestion needs it (plain values, no ORM object)."""

    id: int
    number: str
    status: str
    created_at: datetime
    category_id: int | None
    category_name: str | None
    territorial_unit_id: int | None
    unit_name: str | None
    address: str | None
    phone: str | None
    text: str


@dataclass(frozen=True)
class Match:
    original: Original
    score: float  # text similarity, 0–1
    same_address: bool
    same_place: bool  # territorial unit
    same_kind: bool  # category
    same_phone: bool

    @property
    def likely(self) -> bool:
        """Worth the 可能重复 mark: the words agree, or the exact place and the kind do."""
        return self.score >= MARK or (self.same_address and self.same_kind)

    @property
    def reasons(self) -> list[str]:
        """Why it is suggested, in the operator's words (the phone is not named: not every
        role may see it)."""
        found = []
        if self.same_address:
            found.append("同一地址")
        if self.same_place and self.same_kind:
            found.append(f"同一地点（{self.original.unit_name}）同类问题"
                         f"（{self.original.category_name}）")  # fmt: skip
        elif self.same_place:
            found.append(f"同一地点（{self.original.unit_name}）")
        elif self.same_kind and self.score >= SUGGEST:
            found.append(f"同类问题（{self.original.category_name}）")
        if self.score >= SUGGEST:
            found.append(f"内容相似 {self.score:.2f}")
        return found

    @property
    def why(self) -> str:
        return "；".join(self.reasons)


def _address(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if len(value) >= MIN_ADDRESS else None


def ticket_text(title: str | None, description: str | None) -> str:
    """What is compared of a ticket: its title (a call centre's summary) and description."""
    text = f"{title}\n{description or ''}" if title else description or ""
    return text[:TEXT_CHARS]


# ---------------------------------------------------------------- similarity per router


class _NoTerms:
    """No active ruleset: no vocabulary, the characters alone are compared."""

    def __init__(self) -> None:
        self.matcher = self
        self.idf: dict[str, float] = {}

    def find(self, text: str) -> Counter[str]:
        return Counter()


class Profiles:
    """Profiles of texts for one compiled router, remembered by text: an import compares
    each chunk with the tickets the chunks before it wrote (one profile per row, not one
    per chunk that sees it). Bounded: a profile is a few kilobytes."""

    LIMIT = POOL + 2000

    def __init__(self, similarity: TextSimilarity) -> None:
        self.similarity = similarity
        self._known: dict[str, Profile] = {}

    def of(self, text: str) -> Profile:
        found = self._known.get(text)
        if found is None:
            if len(self._known) >= self.LIMIT:
                self._known.clear()  # a long import just recomputes
            found = self._known[text] = self.similarity.profile(text)
        return found


_profiles: weakref.WeakKeyDictionary[object, Profiles] = weakref.WeakKeyDictionary()
_plain = Profiles(TextSimilarity(_NoTerms()))


def profiles_for(routing: Compiled | None) -> Profiles:
    """The process's profiles for the active router (a new ruleset starts afresh)."""
    if routing is None:
        return _plain
    router = routing.router
    found = _profiles.get(router)
    if found is None:
        found = _profiles[router] = Profiles(TextSimilarity(router))
    return found


# ---------------------------------------------------------------- candidates and ranking


def candidates(session: Session, probes: Sequence[Probe], *, limit: int) -> list[Original]:
    """Open tickets created within the window of any probe that share a territorial unit, a
    category, an address or a caller's phone with one of them: one query, at most ``limit``,
    those sharing a place, address or phone first (a busy category elsewhere in the city
    must not crowd them out), newest first within each."""
    units = {p.territorial_unit_id for p in probes if p.territorial_unit_id}
    kinds = {p.category_id for p in probes if p.category_id}
    addresses = {a for p in probes if (a := _address(p.address))}
    phones = {p.phone for p in probes if p.phone}
    near = []
    if units:
        near.append(Ticket.territorial_unit_id.in_(units))
    if addresses:
        near.append(Ticket.address.in_(addresses))
    if phones:
        near.append(Ticket.reporter_phone.in_(phones))
    conditions = [*near, Ticket.category_id.in_(kinds)] if kinds else near
    if not probes or not conditions:
        return []
    nearness = case((or_(*near), 0), else_=1) if near else literal(1)
    earliest = min(p.at for p in probes) - WINDOW
    latest = max(p.at for p in probes)
    rows = session.execute(
        select(Ticket.id, Ticket.number, Ticket.status, Ticket.created_at, Ticket.category_id,
               Category.name.label("category_name"), Ticket.territorial_unit_id,
               Unit.name.label("unit_name"), Ticket.address, Ticket.reporter_phone,
               Ticket.title, func.substr(Ticket.description, 1, TEXT_CHARS).label("body"))
        .outerjoin(Category, Category.id == Ticket.category_id)
        .outerjoin(Unit, Unit.id == Ticket.territorial_unit_id)
        .where(Ticket.status.notin_([s.value for s in FINAL]),
               Ticket.created_at >= earliest, Ticket.created_at <= latest, or_(*conditions))
        .order_by(nearness, Ticket.created_at.desc(), Ticket.id.desc())
        .limit(limit)
    )  # fmt: skip
    return [
        Original(r.id, r.number, r.status, r.created_at, r.category_id, r.category_name,
                 r.territorial_unit_id, r.unit_name, r.address, r.reporter_phone,
                 ticket_text(r.title, r.body))
        for r in rows
    ]  # fmt: skip


def _relation(probe: Probe, original: Original, score: float) -> Match:
    address = _address(probe.address)
    return Match(
        original,
        round(score, 4),
        same_address=address is not None and address == _address(original.address),
        same_place=bool(probe.territorial_unit_id)
        and probe.territorial_unit_id == original.territorial_unit_id,
        same_kind=bool(probe.category_id) and probe.category_id == original.category_id,
        same_phone=bool(probe.phone) and probe.phone == original.phone,
    )


def _eligible(probe: Probe, original: Original) -> bool:
    """Within the probe's window, not itself, and older than it when it is a ticket."""
    if not probe.at - WINDOW <= original.created_at <= probe.at:
        return False
    if probe.ticket_id is not None:
        if original.id == probe.ticket_id:
            return False
        if original.created_at == probe.at and original.id > probe.ticket_id:
            return False
    return True


def _listed(match: Match) -> bool:
    """What a lookup lists: the same address, the same place and kind (as before words were
    compared), or similar words with the place or the kind in common."""
    if match.same_address or (match.same_place and match.same_kind):
        return True
    return match.score >= SUGGEST and (match.same_place or match.same_kind)


def _order(match: Match) -> tuple[bool, int, float, datetime, int]:
    """Likely ones first; then the closer place (address, place and kind, place, kind), the
    closer words, the newer."""
    place = (3 if match.same_address else 2 if match.same_place and match.same_kind
             else 1 if match.same_place else 0)  # fmt: skip
    return (match.likely, place, match.score, match.original.created_at, match.original.id)


def find(session: Session, probes: Sequence[Probe], *, routing: Compiled | None,
         limit: int = 5) -> list[list[Match]]:  # fmt: skip
    """For each probe, its listed matches, likeliest first (then most similar, newest)."""
    if not probes:
        return []
    pool = candidates(session, probes, limit=min(POOL, PER_PROBE * len(probes)))
    profiles = profiles_for(routing)
    results = []
    for probe in probes:
        own = profiles.of(probe.text)
        address = _address(probe.address)
        matches, compared = [], 0
        for original in pool:  # newest first
            if compared >= PER_PROBE:
                break
            related = (
                (address is not None and address == _address(original.address))
                or (probe.territorial_unit_id is not None
                    and probe.territorial_unit_id == original.territorial_unit_id)
                or (probe.category_id is not None and probe.category_id == original.category_id)
            )  # fmt: skip
            if not related or not _eligible(probe, original):
                continue  # brought by another probe of the batch, or not before this one
            compared += 1
            match = _relation(probe, original, cosine(own, profiles.of(original.text)))
            if _listed(match):
                matches.append(match)
        results.append(sorted(matches, key=_order, reverse=True)[:limit])
    return results


def find_one(session: Session, probe: Probe, *, routing: Compiled | None,
             limit: int = 5) -> list[Match]:  # fmt: skip
    return find(session, [probe], routing=routing, limit=limit)[0]


def probe_for_draft(routing: Compiled | None, *, text: str, address: str | None,
                    now: datetime, category: str | None = None,
                    title: str | None = None) -> Probe | None:  # fmt: skip
    """A draft's probe: the kind someone chose (else routing's), and the territorial unit
    routing reads from the address and text. None when there is nothing to compare."""
    if not text.strip():
        return None
    category_id = unit_id = None
    if routing is not None:
        decision = routing.router.route(text, title=title or "", place=address or "")
        city = routing.city
        kind = city.categories.get(category or "") or city.categories.get(decision.category or "")
        category_id = kind.id if kind else None
        unit_id = city.unit_ids.get(decision.territorial_unit or "")
    return Probe(ticket_text(title, text), now, address, category_id, unit_id)


# ---------------------------------------------------------------- imports


@dataclass(frozen=True)
class Repeat:
    """An imported work order that repeats an open ticket, and what the import does."""

    match: Match
    merge: bool  # near-certain: merged into it; otherwise held for a person


def repeats(session: Session, probes: Sequence[Probe], *, routing: Compiled | None,
            numbers: Sequence[str] | None = None,
            checked: Sequence[bool] | None = None) -> list[Repeat | None]:  # fmt: skip
    """For each work order of a chunk, the open ticket it repeats, if any: words at least
    ``LINK`` alike with the same address, the same place and kind, or the same caller; and
    ``merge`` when the same caller says it ``MERGE`` alike. One query for the whole chunk;
    the similarity index finds the pairs without scoring every one. With ``numbers`` (the
    numbers the chunk's tickets will get), a row may also repeat an earlier row of the chunk.
    Only rows ``checked`` says (all by default) are looked up; the others can be originals.
    """
    if not probes:
        return []
    # One message sent by many (a campaign) is one original: the newest open one.
    looked_up = list(checked) if checked is not None else [True] * len(probes)
    if not any(looked_up):
        return [None] * len(probes)
    newest = candidates(session, [p for p, c in zip(probes, looked_up, strict=True) if c],
                        limit=IMPORT_POOL)  # fmt: skip
    wanted = {k for p, c in zip(probes, looked_up, strict=True) if c for k in _keys(p)}
    # Only what shares an address, a place and kind, or a caller with some row can be linked:
    # the rest is neither profiled nor indexed.
    pool = [o for o in {o.text: o for o in reversed(newest)}.values() if _keys(o) & wanted]
    pool.reverse()
    in_pool = {k for o in pool for k in _keys(o)}
    # Keys of rows looked up that an earlier row of the chunk has too.
    twice, seen = set(), set()
    for p, c in zip(probes, looked_up, strict=True):
        keys = _keys(p)
        if c:
            twice |= keys & seen
        seen |= keys
    profiles = profiles_for(routing)
    originals: list[Original] = list(pool)
    entries = [profiles.of(o.text) for o in pool]
    positions: dict[int, int] = {}  # chunk row → its place in the index
    if numbers is not None:  # rows of the chunk, after the open tickets: originals of later rows
        for k, p in enumerate(probes):
            if _keys(p) & twice:
                positions[k] = len(originals)
                originals.append(Original(0, numbers[k], "reported", p.at, p.category_id,
                                          p.category_name, p.territorial_unit_id, p.unit_name,
                                          p.address, p.phone, p.text))  # fmt: skip
                entries.append(profiles.of(p.text))
    index = Index(entries)
    rows = {at: k for k, at in positions.items()}
    found: list[Repeat | None] = []
    earlier = len(pool)  # the index's positions before this row's
    for position, probe in enumerate(probes):
        best: Repeat | None = None
        if looked_up[position] and _keys(probe) & (in_pool | twice):
            own = profiles.of(probe.text)
            for near in index.near(own, LINK, below=earlier, budget=BUDGET):
                best = _repeat(probe, originals[near.candidate], near.score)
                if best is None:
                    continue
                if near.candidate >= len(pool):
                    before = found[rows[near.candidate]]
                    if before is not None and before.merge:
                        # That row is merged itself: this one goes where it went.
                        best = Repeat(replace(best.match, original=before.match.original),
                                      best.merge)  # fmt: skip
                break  # best first
        if position in positions:
            earlier += 1
        found.append(best)
    return found


def _keys(item: Probe | Original) -> set[tuple[object, ...]]:
    """What an import's link needs in common: the address, the place and kind together, or
    the caller."""
    found: set[tuple[object, ...]] = set()
    if address := _address(item.address):
        found.add(("address", address))
    if item.territorial_unit_id and item.category_id:
        found.add(("place", item.territorial_unit_id, item.category_id))
    if item.phone:
        found.add(("phone", item.phone))
    return found


def _repeat(probe: Probe, original: Original, score: float) -> Repeat | None:
    if not _eligible(probe, original):
        return None
    match = _relation(probe, original, score)
    if not (match.same_address or (match.same_place and match.same_kind) or match.same_phone):
        return None
    return Repeat(match, merge=match.same_phone and match.score >= MERGE)
