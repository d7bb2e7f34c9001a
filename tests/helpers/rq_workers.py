"""An RQ worker for tests that run what is queued and stop (burst)."""

from __future__ import annotations

from rq import SimpleWorker


class BurstWorker(SimpleWorker):
    """RQ's SimpleWorker without its commands channel: nobody sends a test worker commands,
    and stopping that channel's thread sometimes waits out its 60-s poll (redis-py), which
    made a test take a minute now and then."""

    def subscribe(self) -> None:
        pass
