"""The ranges every scenario draws its counts, amounts, delays, devices and channels from, per preset.

Each entry is ``name: (standard, wide)``, a closed interval (low, high) for each preset: `standard` is the demo
bank, `wide` the second bank the rules are also judged on (``python -m synthetic_bank --ranges wide``), chosen so
the rules are not fitted to one setting. Integers are drawn uniformly in [low, high], floats in [low, high).
Amounts are in the customer's home currency (x the customer's spend scale where the name says so; the money
mule's in USD, converted); times in the unit the name ends with. The families' shapes are described in their modules (synthetic_bank/scenarios/).

Limits the wide preset keeps, because past them a case stops being that typology: card tests stay at most 3.89
(micro authorisations: under 5 USD whatever the home currency), structured deposits below 10,000 (just under the reporting threshold), impossible travel
faster than 1,200 km/h, mule outflows at least 65 % of the credit ("most of it"), a small business's usual deposit
at most 7,000 (one whose usual deposit is 9,000 is, for the bank, a structuring case to look at).
"""

from __future__ import annotations

import numpy as np

Span = tuple[float, float]

# the test authorisations, the same whenever the cash-out comes
_CARD_TEST_BURST: dict[str, tuple[Span, Span]] = {
        "tests": ((8, 25), (5, 40)),
        "burst_minutes": ((5, 15), (2, 25)),
        "test_cents": ((50, 299), (1, 389)),
        "decline_share": ((0.4, 0.7), (0.2, 0.9)),
}

RANGES: dict[str, dict[str, tuple[Span, Span]]] = {
    "card_testing": {
        **_CARD_TEST_BURST,
        "cashouts": ((1, 2), (1, 4)),
        "cashout_delay_minutes": ((5, 40), (1, 55)),
        "cashout_cents": ((25_000, 150_000), (8_000, 400_000)),
    },
    "card_testing_late_cashout": {
        **_CARD_TEST_BURST,
        "cashouts": ((1, 3), (1, 5)),
        "cashout_delay_hours": ((1, 48), (1, 144)),
        "cashout_cents": ((15_000, 250_000), (6_000, 500_000)),
        "new_ip_share": ((0.0, 0.5), (0.0, 1.0)),
    },
    "account_takeover": {
        "guesses": ((4, 10), (4, 16)),
        "guess_gap_seconds": ((20, 90), (5, 300)),
        "success_delay_seconds": ((30, 120), (10, 600)),
        "transfers": ((1, 2), (1, 4)),
        "transfer_delay_minutes": ((10, 55), (2, 240)),
        "transfer_x_spend_scale": ((3_000, 15_000), (800, 25_000)),
        "mobile_share": ((0.0, 0.0), (0.0, 0.6)),
    },
    "account_takeover_few_guesses": {
        "guesses": ((1, 3), (1, 3)),
        "guess_gap_seconds": ((30, 600), (10, 3_600)),
        "success_delay_seconds": ((60, 1_800), (30, 7_200)),
        "transfers": ((1, 2), (1, 4)),
        "transfer_delay_minutes": ((5, 120), (2, 600)),
        "transfer_x_spend_scale": ((2_000, 12_000), (600, 25_000)),
        "mobile_share": ((0.2, 0.5), (0.0, 1.0)),
    },
    "impossible_travel": {
        "gap_minutes": ((30, 180), (10, 240)),
        "min_speed_kmh": ((1_600, 1_600), (1_200, 1_200)),
        "home_cents": ((3_000, 30_000), (500, 80_000)),
        "far_cents": ((10_000, 150_000), (4_000, 400_000)),
    },
    "structuring": {
        "deposits": ((3, 6), (2, 8)),
        "span_days": ((2, 5), (1, 7)),
        "deposit_cents": ((900_000, 995_000), (800_000, 999_000)),
        "atm_share": ((0.4, 0.4), (0.0, 0.8)),
    },
    "velocity_burst": {
        "purchases": ((10, 20), (6, 30)),
        "burst_minutes": ((30, 59), (10, 59)),
        "median_amount": ((120, 250), (40, 600)),
        "amount_bounds": ((40, 800), (15, 1_500)),
        "online_share": ((0.6, 0.8), (0.2, 1.0)),
        "approved_share": ((0.85, 0.95), (0.7, 1.0)),
    },
    "dormant_reactivation": {
        "dormant_days": ((200, 700), (181, 1_500)),
        "balance_cents": ((2_000_000, 12_000_000), (500_000, 25_000_000)),
        "drain_share": ((0.70, 0.95), (0.4, 1.0)),
        "transfers": ((1, 2), (1, 4)),
        "transfer_delay_minutes": ((5, 120), (1, 720)),
    },
    "high_risk_geography": {
        "transactions": ((1, 4), (1, 6)),
        "span_days": ((0, 3), (0, 10)),
        "wire_share": ((0.5, 0.5), (0.2, 0.8)),
        "wire_cents": ((80_000, 900_000), (10_000, 2_000_000)),
        "card_cents": ((20_000, 300_000), (2_000, 500_000)),
    },
    "money_mule": {
        "opening_balance_cents": ((5_000, 150_000), (0, 500_000)),
        "credits": ((1, 2), (1, 4)),
        "credit_cents": ((200_000, 1_500_000), (150_000, 4_000_000)),
        "outflows_per_credit": ((1, 3), (1, 5)),
        "first_outflow_delay_minutes": ((15, 720), (5, 1_440)),
        "outflow_spread_minutes": ((5, 180), (1, 240)),
        "share_moved_out": ((0.80, 0.97), (0.65, 0.99)),
        "cash_share": ((0.2, 0.4), (0.0, 0.7)),
    },
    # hard negatives: legitimate behaviour that looks like one of the typologies
    "legitimate_trip": {
        "trip_days": ((3, 10), (2, 21)),
        "distance_km": ((3_000, 12_000), (3_000, 13_000)),
        "bookings": ((1, 2), (0, 4)),
        "booking_cents": ((30_000, 200_000), (5_000, 500_000)),
        "large_purchase_cents": ((40_000, 300_000), (20_000, 800_000)),
        "atm_withdrawals": ((0, 2), (0, 4)),
    },
    "small_business_cash": {
        "deposits_per_week": ((3, 6), (2, 7)),
        "median_deposit": ((2_500, 6_000), (1_500, 7_000)),
        "sigma": ((0.35, 0.5), (0.25, 0.7)),
        "atm_share": ((0.1, 0.3), (0.0, 0.6)),
    },
    "forgotten_password": {
        "failures": ((2, 6), (1, 10)),
        "failure_gap_seconds": ((10, 120), (5, 600)),
        "reset_minutes": ((1, 30), (1, 240)),
        "transfers": ((0, 2), (0, 3)),
        "transfer_cents": ((20_000, 300_000), (5_000, 800_000)),
        "transfer_delay_minutes": ((2, 120), (1, 600)),
    },
    "payday_large_purchase": {
        "payroll_cents": ((250_000, 600_000), (120_000, 1_200_000)),
        "small_app_purchases": ((0, 4), (0, 4)),
        "large_purchases": ((1, 2), (1, 3)),
        "large_purchase_cents": ((80_000, 400_000), (40_000, 900_000)),
        "delay_hours": ((1, 72), (0, 120)),
        "rent_share": ((0.2, 0.5), (0.2, 0.55)),
        "online_share": ((0.3, 0.7), (0.0, 1.0)),
    },
}
PRESETS = ("standard", "wide")


def ranges_for(preset: str) -> dict[str, dict[str, Span]]:
    """{family: {parameter: (low, high)}} of one preset."""
    if preset not in PRESETS:
        raise ValueError(f"--ranges must be one of {', '.join(PRESETS)}, not {preset!r}")
    k = PRESETS.index(preset)
    return {family: {name: spans[k] for name, spans in params.items()} for family, params in RANGES.items()}


def ints(rng: np.random.Generator, span: Span, n: int) -> np.ndarray:
    """n integers uniform in the closed interval `span`."""
    return rng.integers(int(span[0]), int(span[1]) + 1, n)


def floats(rng: np.random.Generator, span: Span, n: int) -> np.ndarray:
    """n floats uniform in [low, high) (the constant low when the span is a point)."""
    return rng.uniform(span[0], span[1], n) if span[1] > span[0] else np.full(n, float(span[0]))
