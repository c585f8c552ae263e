"""The one place the Slack and Jira collectors wait: monotonic seconds and sleeping, behind a
`Clock` that tests and benchmarks replace with a `ScaledClock` (0.001: an API's minute lasts
60 ms), with the emulator's `time_scale` set to match."""

from __future__ import annotations

import time


class Clock:
    """Monotonic seconds and sleeping, in real time."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class ScaledClock(Clock):
    """The API's seconds run `scale` times real time (0.001: a minute lasts 60 ms)."""

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def now(self) -> float:
        return time.monotonic() / self.scale

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds * self.scale)
