"""Model-based: random sequences of operations over `/v1` and both compat surfaces, each
answer held to a plain in-memory model of which groups exist and what they hold.

The model is a dict of groups (name, direction, entries with their expiry). Rules create,
rename, redirect and delete groups, add numbers (valid and invalid, several spellings of one
number, with and without expiry) and remove them, through whichever surface; they check
numbers one at a time and in batches, list a group's entries, and let the fake clock run so
that expiries pass. After every step the account's groups, with their active and expired
counts, must be the model's.

``CALLBLOCK_STATEFUL_EXAMPLES`` (default 20) and ``CALLBLOCK_STATEFUL_STEPS`` (default 30)
scale the run; ``bench/fuzz.py --stateful N`` runs it longer. The model and the machine are in
tests/fuzzing/model.py.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from callblock.service import Service
from tests.fuzzing.model import run_machine
from tests.helpers import FakeClock

EXAMPLES = int(os.environ.get("CALLBLOCK_STATEFUL_EXAMPLES", "20"))


def test_every_surface_agrees_with_a_model_of_groups_and_numbers(
    app: FastAPI, service: Service, clock: FakeClock
) -> None:
    run_machine(app, service, clock, examples=EXAMPLES)
