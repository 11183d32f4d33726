"""How long the fuzz tests run, and what they count.

`CHAOS_SCALE` unset: a short run inside `make test` (a few seconds); `CHAOS_SCALE=full` (what
`make chaos` and `make fuzz` set): at least 100,000 inputs across the fuzz tests. Either way
the run is derandomized (the same inputs every time), so CI is never flaky.
"""

import os
from collections import Counter
from collections.abc import Callable
from typing import TypeVar

from hypothesis import HealthCheck, settings

T = TypeVar("T")

FULL = os.environ.get("CHAOS_SCALE", "").lower() == "full"

inputs: Counter[str] = Counter()
crashes: Counter[str] = Counter()


def fuzz_settings(short: int, full: int, **extra) -> settings:
    """Hypothesis settings for `short` examples in `make test`, `full` in the long run."""
    return settings(
        max_examples=full if FULL else short,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        **extra,
    )


def counted(target: str, fn: Callable[..., T], *args) -> T:
    """fn(*args), counted as one input to `target`; an exception (the code under test raising,
    or a property of its result failing) is counted as a crash and raised again: Hypothesis
    then shrinks it to the smallest such input and fails the test."""
    inputs[target] += 1
    try:
        return fn(*args)
    except BaseException:
        crashes[target] += 1
        raise


def summary() -> str:
    per_target = ", ".join(f"{name} {count:,}" for name, count in sorted(inputs.items()))
    return (
        f"Fuzz ({'full' if FULL else 'short'} run): {sum(inputs.values()):,} inputs, "
        f"{sum(crashes.values())} crashes ({per_target})"
    )
