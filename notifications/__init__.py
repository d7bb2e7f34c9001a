"""Notifications only: the outbox hand-on, delivery jobs, channels and composing texts; reads
the outbox rows ``hotline`` writes (and ``entry``, the ``hotline`` console script)."""
