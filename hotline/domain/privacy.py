"""Masking of personal data for people who do not need to see it."""

from __future__ import annotations

from .states import Role

# Operators call residents back and supervisors arbitrate; units call residents for feedback,
# but only when the resident agreed to be contacted. Admins manage the system, not cases.
PHONE_ROLES: frozenset[Role] = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.UNIT})


def mask_phone(phone: str | None) -> str | None:
    """``13812341234`` → ``138****1234``; short or odd values are hidden entirely."""
    if not phone:
        return phone
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 8:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"


def mask_name(name: str | None) -> str | None:
    """Keep the surname only: ``张三`` → ``张*``, ``欧阳娜娜`` → ``欧***``."""
    if not name:
        return name
    if len(name) == 1:
        return "*"
    return name[0] + "*" * min(len(name) - 1, 3)


def may_see_phone(role: Role | None, consent_contact: bool) -> bool:
    if role is None or role not in PHONE_ROLES:
        return False
    return role is not Role.UNIT or consent_contact
