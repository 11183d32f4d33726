"""The reader's one policy: reading hostile mail never raises.

Each step that can fail on a broken message runs through `attempt`: on an exception it
records what went wrong in the message's problem list and carries on with a default, so one
bad header or part never costs the rest of the message (and the raw bytes are always kept).
"""

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def attempt(problems: list[str], what: str, default: T, fn: Callable[..., T], *args) -> T:
    """fn(*args), or `default` with a problem noted: one bad part must not sink the message."""
    try:
        return fn(*args)
    except Exception as exc:  # reading mail never raises; see the module docstring
        problems.append(f"{what}: {type(exc).__name__}: {exc}")
        return default
