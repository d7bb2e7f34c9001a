"""A stop signal that lands between RQ's own checks still stops the worker cleanly."""

from __future__ import annotations

from rq.exceptions import StopRequested

from hotline.background.periodic import run_worker


class StoppedWhileStarting:
    """Stands in for an RQ worker whose SIGTERM arrives before its loop catches it."""

    stopping = False

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def work(self) -> None:
        raise StopRequested()


def test_a_stop_outside_rqs_loop_is_a_clean_stop() -> None:
    said: list[str] = []
    run_worker(StoppedWhileStarting, None, [], log=said.append)  # type: ignore[arg-type]
    assert said == ["worker stopped"]
