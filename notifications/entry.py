"""The ``hotline`` console script (setup.cfg): hotline's command line, with notifications'
work handed in.

hotline never imports notifications (routing ← hotline ← notifications), so every command
group, ``worker``, ``scheduler`` and ``outbox`` included, lives in ``hotline.cli``. Two of
them need notifications' code: ``outbox flush`` hands the due rows on (enqueues them, or
delivers them without Redis) and ``scheduler`` runs the outbox re-drain (enqueued by its
dotted name, or run in its own process without Redis). This module, the only one that
imports both, hands that work to them as click's context object. The worker needs nothing:
RQ imports each job by its dotted name. Importing delivery here also loads it once, before
``hotline worker --fork`` forks.
"""

from __future__ import annotations

from hotline.cli import main as command_line
from hotline.cli.support import NotificationWork

from .jobs import drain_outbox
from .outbox import flush


def main() -> None:
    """``hotline …``"""
    command_line(obj=NotificationWork(flush=flush, drain_outbox=drain_outbox))
