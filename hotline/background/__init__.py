"""Background work that is not a notification: import batches (``imports``), the SLA sweep
and the scheduler's other rounds, and what keeps the worker and the scheduler alive through
a Redis outage (``periodic``), each process's settings and database (``runtime``).

hotline never imports notifications (routing ← hotline ← notifications), yet its worker runs
notifications' jobs and its scheduler drains the outbox. They reach that work only by dotted
name on the queue ("notifications.jobs.deliver", "notifications.jobs.drain_outbox"), which
RQ imports inside the worker, or — in a process without Redis — as plain callables handed in
by the console script's entry point (``notifications.entry``, see ``hotline.cli``).
"""
