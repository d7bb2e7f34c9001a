"""``hotline privacy …``: erasing residents' personal data from the shell (audited)."""

from __future__ import annotations

import click

from .support import now as _now
from .support import opened

CLI_ACTOR_LABEL = "命令行"


@click.group("privacy")
def privacy_group() -> None:
    """Residents' personal data: erase on request, or what the retention period has passed."""


@privacy_group.command("erase")
@click.option("--phone", required=True, help="The resident's phone number (138…).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase(phone: str, yes: bool) -> None:
    """Erase the name, phone and photos on every ticket this phone reported."""
    from ..domain.privacy import mask_phone
    from ..photos import PhotoStore
    from ..services.actors import Actor
    from ..services.privacy import check_resident, erase_resident, resident_phone

    with opened() as (settings, database):
        number = resident_phone(phone)
        actor = Actor(None, CLI_ACTOR_LABEL)
        with database.transaction() as session:
            found = check_resident(session, number, actor=actor, now=_now())
        if found.tickets == 0:
            click.echo(f"{mask_phone(number)}: 没有工单")
            return
        click.echo(f"{mask_phone(number)}: {found.tickets} 件工单（其中 {found.open} 件未办结）")
        if not yes:
            click.confirm("删除这些工单中的姓名、电话和照片？此操作不可恢复", abort=True)
        with database.transaction() as session:
            numbers = erase_resident(session, number, actor=actor, now=_now(),
                                     photos=PhotoStore(settings.upload_dir))  # fmt: skip
    click.echo(f"已删除 {len(numbers)} 件工单中的个人信息（已记入审计日志）")


@privacy_group.command("expire")
def expire() -> None:
    """Erase closed tickets past HOTLINE_PERSONAL_DATA_DAYS now, batch after batch (the
    sweep does the same, one batch a minute)."""
    from ..photos import PhotoStore
    from ..services.privacy import erase_expired

    with opened() as (settings, database):
        photos, total = PhotoStore(settings.upload_dir), 0
        while True:
            with database.transaction() as session:
                batch = erase_expired(session, now=_now(), photos=photos,
                                      retention_days=settings.personal_data_days)  # fmt: skip
            total += len(batch)
            if not batch:
                break
    click.echo(f"已删除 {total} 件工单中的个人信息（办结超过 {settings.personal_data_days} 天）")
