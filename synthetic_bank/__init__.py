"""Synthetic bank: deterministic, vectorized landing data for the five source tables, with labelled fraud.

`python -m synthetic_bank --out DIR [--seed 42 --customers 2500 --days 60 --end-date 2026-10-31]` writes
`DIR/landing/<table>/ingest_date=YYYY-MM-DD/<table>_YYYYMMDD.csv` (columns exactly as glue_jobs/contracts list
them; `null` for no value) and the answers, which no model may read, to `DIR/ground_truth/`:
`fraud_labels.csv` (entity_type transaction|login, entity_id, customer_id, scenario) and `churn_labels.csv`
(customer_id, churn_start_date). Same config -> byte-identical output.

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
  shares), ATM withdrawals (multiples of 20), payroll and cash deposits (cash deposits are lognormal around
  400, so an occasional legitimate one lands between 9,000 and 10,000), transfers, bill/card payments, refunds.
  Status ~95 % completed. Currency is the account's home currency.
- Card-present channels (pos, atm, branch) carry merchant_city, latitude/longitude (within ~5 km of the city
  centre); card-not-present ones (ecommerce, mobile, online_banking) carry device_id and ip_address instead,
  lat/lon null. ~7 % of ecommerce spend is with merchants in (low-risk) foreign countries.
- 4 % of customers travel for 2-6 days (domestic or abroad): card-present spend and logins move to the trip
  city; the first card-present spend on the departure and return days is after 15:00, so legitimate trips never
  look like impossible travel.
- Logins: Poisson (mean --logins-per-day) from the customer's own two devices and home IP, ~4 % failed.

Scenarios (each victim belongs to exactly one scenario; victims exist before the window)
- card_testing: on one day, 8-25 card-not-present purchases of 0.50-2.99 at ONE digital_goods merchant
  (MCC 5816/5818) within 15 minutes, ~55 % declined, from a never-seen device and IP, merchant_country a foreign
  country; then 1-2 purchases of 250-1,500 at electronics/jewelry merchants 20-55 minutes after the burst began,
  same device. All labelled.
- account_takeover: 4-10 failed logins (invalid_password/invalid_credentials) 20-90 s apart from a new desktop
  device and IP geolocated to a foreign city (lat/lon of that city), then a successful login from the same
  device 30-120 s later, then 1-2 `External Transfer` transfers (online_banking, 3,000-15,000 x the customer's
  spend scale) 10-55 minutes after the success, same device/IP, merchant_country = the attacker's country.
  All those logins (entity_type login) and transfers are labelled. The victim's accounts are frozen next day.
- impossible_travel: a card-present purchase at home (retail/food/grocery, 30-300), then 30 min-3 h later a
  card-present purchase (100-1,500, electronics/jewelry/retail) in a foreign city >= 5,000 km away (implied
  speed > 1,600 km/h). Both legs are labelled; only the far leg can be a confirmed chargeback.
- structuring: 3-6 cash deposits (`Cash Deposit`, merchant_category cash, MCC 6010, branch or atm) of
  9,000.00-9,950.00 each spread over 2-5 consecutive days in the home city. All labelled (AML, never
  is_fraudulent).
- velocity_burst: 10-20 completed-or-declined purchases of ordinary size (40-800, median ~180) at electronics,
  jewelry, retail and digital goods merchants within one hour; 70 % card-not-present from one new device, the
  rest card-present in the home city. All labelled. (Distinct from card testing: amounts are normal, mostly
  approved, many merchants.)
- dormant_reactivation: all the customer's accounts are `dormant` with last_activity_date 200-700 days before the
  window and no activity in the window, the checking balance is 20,000-120,000; on the reactivation day a login
  succeeds from a never-seen device (not labelled), then 1-2 `External Transfer` transfers within 2 h drain 70-95 %
  of that balance. The transfers are labelled; the account is `active` from that day.
- high_risk_geography: 1-4 transactions over up to 4 days, each either an `External Transfer` (800-9,000) or a
  card-not-present crypto/gambling/jewelry purchase (200-3,000) whose merchant_country is in
  `synthetic_bank.reference.HIGH_RISK_COUNTRIES` (Iran, Myanmar, Nigeria, North Korea, Russia, Venezuela). No
  normal traffic ever goes there. All labelled (AML, never is_fraudulent).
- churn: 8 % of customers; from churn_start_date their transaction and login rates decay as exp(-days/10) and
  their accounts close 30 days later (if inside the window). Ground truth in churn_labels.csv.

is_fraudulent is what operations booked: true for a random ~40 % of the labelled chargeback-type legs (card
testing, takeover transfers, the far impossible-travel leg, velocity burst, dormant drain), false elsewhere.
"""

from synthetic_bank.generator import DEFAULT_END_DATE, SCENARIOS, BankConfig, GenerationResult, generate

__all__ = ["DEFAULT_END_DATE", "SCENARIOS", "BankConfig", "GenerationResult", "generate"]
