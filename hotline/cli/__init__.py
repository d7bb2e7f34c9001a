"""The ``hotline`` command line: one module per command group, assembled here into ``main``.

Every command that works in the database opens it with ``support.opened`` or
``support.transaction`` (settings from the environment, a refusal reported in Chinese, the
engine disposed); ``worker`` and ``scheduler`` keep theirs for the process instead
(``hotline.background.runtime``).

hotline never imports notifications (routing ← hotline ← notifications), so ``main`` is not
the console script on its own: ``outbox flush`` hands the outbox on and ``scheduler`` runs
its re-drain (itself without Redis, else as an RQ job named after it). The console script
starts in ``notifications.entry``, the one module that imports both, which calls ``main``
with that work (``NotificationWork``) as click's context object. The other commands need
nothing of it; the worker knows notifications' jobs only by the dotted names on its queues.
"""

from __future__ import annotations

import click

from . import (
    calendar,
    db,
    exports,
    imports,
    outbox,
    privacy,
    processes,
    routing,
    seed,
    sla,
    templates,
    tokens,
)


@click.group()
def main() -> None:
    """文明直通车 command line (settings from HOTLINE_* environment variables)."""


main.add_command(db.db)
main.add_command(seed.seed)
main.add_command(tokens.token)
main.add_command(sla.sla)
main.add_command(calendar.calendar)
main.add_command(routing.routing_group)
main.add_command(imports.import_command)
main.add_command(exports.export_command)
main.add_command(templates.templates_group)
main.add_command(privacy.privacy_group)
main.add_command(outbox.outbox)
main.add_command(processes.worker)
main.add_command(processes.scheduler)
