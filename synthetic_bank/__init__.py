"""Synthetic bank: deterministic, vectorized landing data for the five source tables, with labelled fraud.

`python -m synthetic_bank --out DIR [--seed 42 --customers 2500 --days 60 --end-date 2026-10-31 --ranges standard]`
writes
`DIR/landing/<table>/ingest_date=YYYY-MM-DD/<table>_YYYYMMDD.csv` (columns exactly as glue_jobs/contracts list
them; `null` for no value) and the answers, which no model may read, to `DIR/ground_truth/`:
`fraud_labels.csv` (entity_type transaction|login, entity_id, customer_id, scenario), `hard_negatives.csv` (the
same with `kind`) and `churn_labels.csv` (customer_id, churn_start_date). Same config -> byte-identical output.

Landing layout per table
- customers: the first ingest date carries every customer that existed before the window; each later date
  carries the customers onboarded that day (~5 % of customers join during the window).
- accounts: daily end-of-day snapshot, one row per open account per as_of_date (= ingest date). Balances are
  the opening balance plus that account's completed flows (consistent with transactions); credit cards and
  loans show the amount owed. Churners' accounts are `closed` 30 days after churn starts; account-takeover
  victims' accounts are `frozen` from the day after the attack; dormant-scenario accounts are `dormant` until
  reactivated.
- transactions / login_activity: one file per calendar day of the event (UTC). IDs are sequential in time:
  TXN + 10 digits, LOG + 10 digits, CUST + 7 digits, ACC + 8 digits, SCR + 9 digits, devices DEV + 9 digits
  (widths differ from the seed samples' CUST001 etc., so ids never collide with them).
- credit_scores: one bureau pull per customer on the first day of every month in the window (plus the first
  window day if that is not the 1st).

Normal behaviour (the background the scenarios must stand out from)
- Poisson transactions per customer-day (mean --txn-per-day x a lognormal per-customer activity, +15 % at
  weekends): 70 % purchases (13 merchant categories with their own MCCs, median amounts and card-not-present
  shares), ATM withdrawals (multiples of 20), deposits - payroll (60 %), an `Incoming Transfer` from someone
  (15 %) or cash, the last two lognormal around 400 (so an occasional legitimate one lands between 9,000 and
  10,000) - transfers (60 % `Internal Transfer` to the customer's own accounts), bill/card payments, refunds.
  Status ~95 % completed. Currency is the account's home currency.
- Card-present channels (pos, atm, branch) carry merchant_city, latitude/longitude (within ~5 km of the city
  centre); card-not-present ones (ecommerce, mobile, online_banking) carry device_id and ip_address instead,
  lat/lon null. ~7 % of ecommerce spend is with merchants in (low-risk) foreign countries.
- 4 % of customers travel for 2-6 days (domestic or abroad): card-present spend and logins move to the trip
  city; the first card-present spend on the departure and return days is after 15:00, so legitimate trips never
  look like impossible travel.
- Logins: Poisson (mean --logins-per-day) from the customer's own two devices and home IP, ~4 % failed.

Fraud scenarios and hard negatives (synthetic_bank/scenarios/, one module per family; each module's docstring
gives its exact shape, and every count, amount, delay, device and channel is drawn from the ranges in
scenarios/ranges.py, preset `standard` or `wide` via BankConfig.ranges / --ranges)
- card_testing, card_testing_late_cashout (scenarios/card_testing.py)
- account_takeover, account_takeover_few_guesses (scenarios/account_takeover.py)
- impossible_travel, structuring, velocity_burst, dormant_reactivation, high_risk_geography, money_mule
- hard negatives (scenarios/hard_negatives.py): legitimate_trip, small_business_cash, forgotten_password,
  payday_large_purchase - legitimate behaviour that looks like fraud, listed in ground_truth/hard_negatives.csv
  (entity_type, entity_id, customer_id, kind) so a rule's false-positive rate can be measured.
Each victim belongs to exactly one scenario and exists before the window; hard-negative subjects are other customers.
- churn: 8 % of customers; from churn_start_date their transaction and login rates decay as exp(-days/10) and
  their accounts close 30 days later (if inside the window). Ground truth in churn_labels.csv.

is_fraudulent is what operations had booked by the extract's last day (events.py): a victim's chargeback-type case
(card testing, takeovers, the far impossible-travel leg, velocity burst, dormant drain) is confirmed when the
customer disputes it (80 % of cases), all its legs together, a lognormal delay after its last leg (median 8 days,
90 % within ~3 weeks; not yet booked when that falls after the end); plus noise: 1 in 5,000 ordinary card purchases
booked as fraud (friendly fraud). Structuring, high-risk geography and money mules are AML typologies, never charged
back. Models learn from is_fraudulent only; the ground truth files stay unread by them.

Modules: generator.py (customers, accounts, the plan of who does what when, normal traffic), world.py (places,
merchants, enumerations), events.py (transactions and logins written in time order, the ground-truth files),
snapshots.py (daily account snapshots, bureau pulls), writer.py (CSV landing files).
"""

from synthetic_bank.generator import DEFAULT_END_DATE, SCENARIOS, BankConfig, GenerationResult, generate

__all__ = ["DEFAULT_END_DATE", "SCENARIOS", "BankConfig", "GenerationResult", "generate"]
