"""How often a generated promtool test samples its input series and evaluates the rules.

Once a minute, unless a signal looks back over more than a day: a 30d window at one minute would
take 43,200 samples a series (promtool's engine loads at most 10,000 a query) and as many
evaluations of every rule. A longer window is tested at a coarser step, chosen so that

- the window spans at most ``MAX_STEPS`` steps (what a 1d window spans at one minute), and at
  least ``MIN_STEPS`` when the ``for`` durations allow, so ramps and crossings stay resolved;
- the step divides the window, so ``rate()`` sees a whole number of steps and records exact values;
- the step divides every ``for`` of the signal's alerts, so "pending one evaluation before it
  fires" is exactly one step before ``for`` has passed. A ``for`` that no such step divides is
  refused by validation (``finest``): a test at a step coarser than the ``for`` would pass for
  any ``for`` shorter than the step.

The SLO tests of ``generator.analysis.slo`` choose their input spacing from the same ``CANDIDATES``.

Example::

    >>> step(30 * 86400.0, holds=[3600.0])  # a 30d window, alerts with for: 1h
    3600.0
"""

from __future__ import annotations

from collections.abc import Iterable

FINE = 60.0
# The longest window tested at the fine step.
FINE_WINDOW = 86400.0
MAX_STEPS = int(FINE_WINDOW // FINE)
MIN_STEPS = 60
# Steps that divide a day: whole minutes, so every evaluation time is a whole minute and days of
# windows are whole numbers of steps.
CANDIDATES = tuple(60.0 * m for m in (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440))


def finest(window: float) -> float | None:
    """The finest step a window over a day can be tested at: it divides the window, which spans at
    most ``MAX_STEPS`` of it. None: no candidate divides the window finely enough."""
    fits = [s for s in CANDIDATES if window % s == 0 and window / s <= MAX_STEPS]
    return min(fits, default=None)


def step(window: float | None, holds: Iterable[float]) -> float | None:
    """The step of the tests of a signal looking back ``window`` seconds (None: no window) whose
    alerts hold for ``holds`` seconds: the fine step up to a 1d window, else the coarsest candidate
    that divides the window and every hold and keeps the window within ``MIN_STEPS``..``MAX_STEPS``
    steps (or the finest when none reaches ``MIN_STEPS``). None: no candidate does."""
    if window is None or window <= FINE_WINDOW:
        return FINE
    holds = tuple(holds)
    fits = [s for s in CANDIDATES
            if window % s == 0 and window / s <= MAX_STEPS and all(h % s == 0 for h in holds)]
    if not fits:
        return None
    resolved = [s for s in fits if window / s >= MIN_STEPS]
    return max(resolved) if resolved else min(fits)
