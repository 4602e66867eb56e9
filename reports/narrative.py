"""The SAR case narrative, written from the case's data only (who, what, when, where, why): every sentence is a
field of rpt_sar_cases put into words; nothing is inferred that the data does not hold."""

from __future__ import annotations

import pandas as pd

# What each reason code means, in the words an investigator files (codes: dbt/macros/scoring.sql and MODEL).
REASONS = {
    "CARD_TESTING": "repeated small card-not-present purchases typical of testing a stolen card",
    "IMPOSSIBLE_TRAVEL": "card use in places too far apart for the time between them",
    "ATO_TRANSFER": "money sent out shortly after a suspicious login (possible account takeover)",
    "STRUCTURING": "repeated cash just under the reporting threshold (possible structuring)",
    "MONEY_MULE": "incoming funds passed straight on to other parties (possible money mule)",
    "VELOCITY": "an unusual burst of transactions in a short time",
    "DORMANT_REACTIVATION": "sudden activity on a dormant account",
    "HIGH_RISK_GEO": "activity in a high-risk jurisdiction",
    "AMOUNT_ANOMALY": "amounts far outside the customer's usual pattern",
    "NEW_DEVICE": "a login from a device not seen before",
    "FAILED_BURST": "a burst of failed login attempts",
    "GEO_VELOCITY": "logins from places too far apart for the time between them",
    "NEW_COUNTRY": "a login from a country not seen before",
    "MODEL": "the fraud model's probability of a confirmed fraud reached its alert threshold",
}


def _money(value) -> str:
    return f"USD {float(value):,.2f}"


def _date(value) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def narrative(case: pd.Series) -> str:
    reasons = [r.strip() for r in (case["rule_reasons"] or "").split(",") if r.strip()] if isinstance(
        case["rule_reasons"], str) else []
    why = "; ".join(REASONS.get(r, r) for r in reasons)
    if case["model_alerts"]:
        why = (why + "; " if why else "") + f"{REASONS['MODEL']} on {int(case['model_alerts'])} alert(s)" + (
            f" (highest probability {float(case['max_model_score']):.2f})" if pd.notna(case["max_model_score"]) else "")
    parts = []
    if case["transaction_alerts"]:
        parts.append(f"{int(case['transaction_alerts'])} transaction(s) totalling {_money(case['amount_usd'])}")
    if case["login_alerts"]:
        parts.append(f"{int(case['login_alerts'])} login attempt(s)")
    what = " and ".join(parts)
    who = f"Customer {case['customer_id']}"
    if isinstance(case.get("customer_segment"), str):
        who += f" ({case['customer_segment']} segment, resident in {case['customer_country']})"
    where = f" Activity in {case['countries']}." if isinstance(case.get("countries"), str) else ""
    return (f"{who}: between {_date(case['first_activity_at'])} and {_date(case['last_activity_at'])}, {what} "
            f"were flagged ({int(case['alerts'])} alert(s), highest rules' score {int(case['max_rules_score'])})."
            f"{where} Why: {why}. Detected {_date(case['detection_date'])}; SAR due {_date(case['filing_deadline'])}.")
