"""The synthetic bank's fraud scenarios and hard negatives, one module per family.

Every module draws its counts, amounts, delays, devices and channels from the ranges in
`synthetic_bank/scenarios/ranges.py` (presets `standard` and `wide`), and describes its shape in its docstring.
A fraud module names the SCENARIOS it writes (its labels' `scenario`), how many VICTIMS_PER_1000 customers each
gets, which are CHARGEBACK-type (a share of their legs becomes is_fraudulent), and `add(bank, buf, logins)`; a
module may also `plan(bank, activity)` before normal traffic is drawn. Each victim belongs to exactly one
scenario and exists before the window; hard-negative subjects are other customers.
"""

from __future__ import annotations

from synthetic_bank.scenarios import (
    account_takeover,
    card_testing,
    dormant_reactivation,
    hard_negatives,
    high_risk_geography,
    impossible_travel,
    money_mule,
    structuring,
    velocity_burst,
)
from synthetic_bank.scenarios.ranges import PRESETS, RANGES, ranges_for

FRAUD_MODULES = (card_testing, account_takeover, impossible_travel, structuring, velocity_burst,
                 dormant_reactivation, high_risk_geography, money_mule)
SCENARIOS: tuple[str, ...] = tuple(s for m in FRAUD_MODULES for s in m.SCENARIOS)
VICTIMS_PER_1000: dict[str, int] = {s: k for m in FRAUD_MODULES for s, k in m.VICTIMS_PER_1000.items()}
CHARGEBACK_SCENARIOS: frozenset[str] = frozenset(s for m in FRAUD_MODULES for s in m.CHARGEBACK)
HARD_NEGATIVES: tuple[str, ...] = hard_negatives.KINDS
SUBJECTS_PER_1000: dict[str, int] = hard_negatives.SUBJECTS_PER_1000

__all__ = ["CHARGEBACK_SCENARIOS", "FRAUD_MODULES", "HARD_NEGATIVES", "PRESETS", "RANGES", "SCENARIOS",
           "SUBJECTS_PER_1000", "VICTIMS_PER_1000", "hard_negatives", "ranges_for"]
