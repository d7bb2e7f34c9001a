"""Unit names as call centres write them → our units.

Exports name units loosely: 示范市城市管理局, 市城管局, 城管局, 和平街道办事处, 和平街道. A name
resolves when it equals a unit's code, name or alias, or when the two agree after dropping
the parts people leave out (the city or district in front, 办事处/人民政府/居委会 behind).
Only an unambiguous match counts: a guess would send a ticket to the wrong office.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_SUFFIXES = ("人民政府", "办事处", "居民委员会", "居委会", "村民委员会", "村委会")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class UnitName:
    code: str
    name: str
    kind: str
    parent: str | None = None
    aliases: tuple[str, ...] = ()


def _bare(text: str, prefixes: tuple[str, ...]) -> str:
    text = _SPACE.sub("", text)
    for suffix in _SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            text = text[: -len(suffix)]
            break
    for prefix in prefixes:
        if text.startswith(prefix) and len(text) > len(prefix) + 1:
            return text[len(prefix) :]
    return text


class UnitNames:
    """Resolve free-text unit names against the city's units."""

    def __init__(self, units: Iterable[UnitName]) -> None:
        self.units = {unit.code: unit for unit in units}
        # The city and district names people put in front ("示范市", "市", "文明区", "区").
        tops = [u.name for u in self.units.values() if u.kind == "district"]
        cities = {u.name[: u.name.index("市") + 1] for u in self.units.values()
                  if "市" in u.name[:6]}  # fmt: skip
        self.prefixes = tuple(sorted({*tops, *cities, "市", "区"}, key=len, reverse=True))
        self.exact: dict[str, set[str]] = {}
        self.loose: dict[str, set[str]] = {}
        self._seen: dict[tuple[str, tuple[str, ...] | None, str | None], str | None] = {}
        for unit in self.units.values():
            for name in (unit.code, unit.name, *unit.aliases):
                self.exact.setdefault(_SPACE.sub("", name), set()).add(unit.code)
                self.loose.setdefault(_bare(name, self.prefixes), set()).add(unit.code)

    def resolve(self, text: str, *, kinds: Iterable[str] | None = None,
                within: str | None = None) -> str | None:  # fmt: skip
        """The one unit ``text`` names (of ``kinds``, under ``within``), or None."""
        key = (text, tuple(kinds) if kinds else None, within)
        if key not in self._seen:  # an export names the same few units again and again
            self._seen[key] = self._resolve(text, set(kinds) if kinds else None, within)
        return self._seen[key]

    def _resolve(self, text: str, wanted: set[str] | None, within: str | None) -> str | None:

        def fits(code: str) -> bool:
            unit = self.units[code]
            if wanted is not None and unit.kind not in wanted:
                return False
            return within is None or self._under(code, within)

        for table, key in ((self.exact, _SPACE.sub("", text)),
                           (self.loose, _bare(text, self.prefixes))):  # fmt: skip
            found = {code for code in table.get(key, ()) if fits(code)}
            if len(found) == 1:
                return found.pop()
            if len(found) > 1:
                return None  # ambiguous: a person decides
        return None

    def _under(self, code: str, ancestor: str) -> bool:
        current: str | None = code
        while current is not None:
            if current == ancestor:
                return True
            current = self.units[current].parent if current in self.units else None
        return False
