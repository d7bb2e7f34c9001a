"""``hotline templates …``: the notification texts, from the shell."""

from __future__ import annotations

from pathlib import Path

import click

from .support import now as _now
from .support import transaction

CLI_ACTOR_LABEL = "命令行"


@click.group("templates")
def templates_group() -> None:
    """Notification texts (Chinese, Jinja: 工单{{ number }}…); built-in unless edited."""


@templates_group.command("list")
def list_templates() -> None:
    from ..services.templates import list_templates as effective

    with transaction() as session:
        for template in effective(session):
            mark = "*" if template.customised else " "
            click.echo(f"{mark} {template.key:<32} {template.body}")
    click.echo("(* = edited by an admin)")


@templates_group.command("show")
@click.argument("key")
def show_template(key: str) -> None:
    """One template, its variables and a preview with sample values."""
    from ..services.templates import get_template, preview

    with transaction() as session:
        template = get_template(session, key)
    info = template.as_dict()
    click.echo(f"{key} ({info['audience_name']}){' [edited]' if template.customised else ''}")
    click.echo(f"subject: {template.subject}")
    click.echo(f"body:    {template.body}")
    if template.sms_template_id:
        click.echo(f"SMS template id: {template.sms_template_id}")
    click.echo("variables: " + ", ".join(f"{k} ({v})" for k, v in info["variables"].items()))
    click.echo(f"preview: {preview(key, current=template)['body']}")


@templates_group.command("set")
@click.argument("key")
@click.option("--body", help="The new text.")
@click.option("--file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read the text from a UTF-8 file.")  # fmt: skip
@click.option("--subject", help="E-mail subject (default: 工单{{ number }}（{{ category }}）).")
@click.option("--sms-template-id", help="The id the SMS vendor approved this text under.")
def set_template(key: str, body: str | None, file: Path | None, subject: str | None,
                 sms_template_id: str | None) -> None:  # fmt: skip
    """Replace a template's text; refused whole if it has a problem."""
    from ..domain.text import normalize_text
    from ..errors import HotlineError
    from ..services.actors import Actor
    from ..services.templates import preview, save_template

    if (body is None) == (file is None):
        raise click.UsageError("give the text with exactly one of --body or --file")
    text = normalize_text(body if body is not None else file.read_text("utf-8"), multiline=True)
    with transaction() as session:
        try:
            saved = save_template(session, key, body=text, subject=subject,
                                  sms_template_id=sms_template_id,
                                  actor=Actor(None, CLI_ACTOR_LABEL), now=_now())  # fmt: skip
        except HotlineError as exc:  # every problem of the text, not only the summary
            problems = [m for messages in (exc.errors or {}).values() for m in messages]
            raise click.ClickException("\n".join(problems) or exc.detail) from exc
    click.echo(f"saved {key}: {preview(key, current=saved)['body']}")


@templates_group.command("reset")
@click.argument("key")
def reset_template(key: str) -> None:
    """Back to the built-in text."""
    from ..services.actors import Actor
    from ..services.templates import reset_template as reset

    with transaction() as session:
        template = reset(session, key, actor=Actor(None, CLI_ACTOR_LABEL), now=_now())
    click.echo(f"{key} is the built-in text again: {template.body}")
