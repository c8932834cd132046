"""What a campaign's progress line says about the time left: a campaign of minutes must
say how far it is and when it will end (issue 19)."""

from __future__ import annotations

import time


def spoken(duration: float) -> str:
    """``45 s``, ``3 min 20 s``, ``1 h 5 min``: a duration as a reader says it."""
    seconds = max(round(duration), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def time_left(started: float, done: int, total: int | None, deadline: float | None) -> str:
    """``, about 2 min left``: from the deadline when there is one, else from the pace so
    far (nothing before the first item is done, or once the total is reached)."""
    now = time.perf_counter()
    if deadline is not None:
        return f", {spoken(deadline - now)} left"
    if total is None or not 0 < done < total:
        return ""
    return f", about {spoken((now - started) / done * (total - done))} left"
