"""THE QuickSight definitions: one SPICE dataset per dbt mart a dashboard reads, and the three dashboards.

Column names are the dbt marts' (dbt/models/marts/**/_*__models.yml); the field check proves every one exists
there with a compatible type before anything is synthesized or rendered. Region = the customer's country of
residence (dim_customers.country), segment = dim_customers.customer_segment: facts without them get them through
a customer join, so one control filters every visual that can be filtered.
"""

from __future__ import annotations

from quicksight.spec import (
    KPI,
    Bar,
    Control,
    CustomerJoin,
    Dashboard,
    Dataset,
    Donut,
    Heatmap,
    Histogram,
    Line,
    Measure,
    Table,
    Where,
)

# Every customer-level dataset names the customer's region REGION_FIELD: one control filters them all, and
# row-level security (rules by region) protects them all with one rules dataset.
REGION_FIELD = "customer_country"
# Segment and region of the customer behind a fact row (facts name the customer, not their attributes).
_CUSTOMER = CustomerJoin("dim_customers", "customer_id",
                         (("customer_segment", "customer_segment"), ("country", REGION_FIELD)))
_REGION_ONLY = CustomerJoin("dim_customers", "customer_id", (("country", REGION_FIELD),))

DATASETS: tuple[Dataset, ...] = (
    Dataset("fraud-alerts", "Fraud alerts", "fraud_alerts",
            ("alert_id", "entity_type", "customer_id", "alert_at", "alert_date", "fraud_score", "risk_band",
             "reason_codes", "primary_reason_code", "model_score", "model_version", "amount_usd", "country",
             "is_confirmed_fraud"),
            join=_CUSTOMER),
    Dataset("transaction-fraud", "Transaction fraud indicators", "fct_transaction_fraud_indicators",
            ("transaction_id", "customer_id", "transaction_date", "transaction_type", "amount_usd", "channel",
             "merchant_category", "merchant_country", "country_risk_level", "fraud_score", "risk_band"),
            join=_CUSTOMER),
    Dataset("login-anomalies", "Login anomalies", "fct_login_anomalies",
            ("login_id", "customer_id", "login_date", "login_status", "device_type", "location_country",
             "channel", "is_suspicious", "anomaly_score", "risk_band", "reason_codes"),
            join=_CUSTOMER),
    Dataset("fraud-geo-risk", "Fraud risk by merchant country", "fraud_geo_risk_summary",
            ("country", "transaction_date", "country_risk_level", "transaction_count", "amount_usd", "alert_count",
             "sum_fraud_score", "confirmed_fraud_count", "latitude", "longitude")),
    Dataset("customers", "Customers", "dim_customers",
            ("customer_id", "country", "state", "customer_since", "tenure_band", "age_band", "income_band",
             "product_count", "has_credit_card", "deposit_balance_usd", "credit_balance_usd", "credit_score",
             "credit_band", "rfm_segment", "customer_segment"),
            renames=(("country", REGION_FIELD),)),
    Dataset("customer-engagement", "Customer engagement and churn risk", "fct_customer_engagement",
            ("customer_id", "as_of_date", "customer_segment", "logins_30d", "failed_logins_30d",
             "transactions_30d", "transaction_amount_30d_usd", "days_since_last_transaction", "activity_trend",
             "churn_risk_score", "churn_risk_band", "churn_propensity", "churn_propensity_band"),
            join=_REGION_ONLY),
    # per model and feature, not per customer: no region to secure by
    Dataset("model-drift", "Model drift (PSI)", "fct_model_drift",
            ("model_name", "model_version", "feature", "psi", "drift_status", "window_start", "window_end")),
    # the mart already carries the customer's region (aggregated revenue has no customer id to join on)
    Dataset("daily-revenue", "Daily revenue", "fct_daily_revenue",
            ("revenue_date", "product", "customer_segment", REGION_FIELD, "channel", "revenue_type", "revenue_usd",
             "event_count")),
)

_ALERTS = "fraud-alerts"
_TXN = "transaction-fraud"
_LOGINS = "login-anomalies"
_GEO = "fraud-geo-risk"
_CUST = "customers"
_ENG = "customer-engagement"
_REV = "daily-revenue"
_DRIFT = "model-drift"

_ELEVATED = ("medium", "high", "critical")


def _drift_bar(visual_id: str, title: str, model: str) -> Bar:
    """The ten features of `model` (and its score) that drifted most from its training window (fct_model_drift)."""
    return Bar(visual_id, title, _DRIFT, "feature", Measure("psi", "MAX", "PSI", "decimal"), color="drift_status",
               top=10, where=Where("model_name", (model,)),
               subtitle="Above 0.25 the run warns; __score__ is the model's own probability",
               category_label="Feature", color_label="Drift")

FRAUD = Dashboard(
    id="fraud-detection",
    name="Fraud Detection",
    description="Alerts by rule and band, the fraud model beside the rules, suspicious transaction patterns, login "
                "anomalies, geographic risk, trend, model drift.",
    datasets=(_ALERTS, _TXN, _LOGINS, _GEO, _DRIFT),
    kpis=(
        KPI("kpiAlerts", "Alerts", _ALERTS, Measure("alert_id", "COUNT", "Alerts")),
        KPI("kpiCritical", "Critical alerts", _ALERTS, Measure("alert_id", "COUNT", "Critical alerts"),
            where=Where("risk_band", ("critical",))),
        KPI("kpiAlertedUsd", "Alerted amount", _ALERTS, Measure("amount_usd", "SUM", "Alerted USD", "currency")),
        KPI("kpiCustomers", "Customers alerted", _ALERTS, Measure("customer_id", "DISTINCT_COUNT", "Customers")),
        KPI("kpiMules", "Suspected mule accounts", _ALERTS, Measure("customer_id", "DISTINCT_COUNT", "Mule accounts"),
            where=Where("primary_reason_code", ("MONEY_MULE",))),
        KPI("kpiModelOnly", "Alerts only the model raised", _ALERTS, Measure("alert_id", "COUNT", "Model alerts"),
            where=Where("primary_reason_code", ("MODEL",))),
    ),
    visuals=(
        Bar("alertsByRule", "Alerts by rule and risk band", _ALERTS, "primary_reason_code",
            Measure("alert_id", "COUNT", "Alerts"), color="risk_band",
            subtitle="Strongest rule of each alert", category_label="Rule", color_label="Risk band"),
        Line("alertTrend", "Daily alerts", _ALERTS, "alert_date", Measure("alert_id", "COUNT", "Alerts"),
             color="entity_type", granularity="DAY", color_label="Alert on"),
        Heatmap("patternsByChannel", "Suspicious transactions by channel and risk band", _TXN, "channel",
                "risk_band", Measure("transaction_id", "COUNT", "Transactions"),
                where=Where("risk_band", _ELEVATED), subtitle="Scored transactions with risk medium or above",
                rows_label="Channel", columns_label="Risk band"),
        Bar("loginAnomalies", "Login anomalies by reason", _LOGINS, "reason_codes",
            Measure("login_id", "COUNT", "Logins"), color="risk_band", where=Where("risk_band", _ELEVATED),
            top=10, subtitle="Login attempts with risk medium or above", category_label="Reason codes",
            color_label="Risk band"),
        Bar("geoRisk", "Transaction alerts by merchant country", _GEO, "country",
            Measure("alert_count", "SUM", "Alerts"), color="country_risk_level", top=15,
            subtitle="Top 15 countries, coloured by the country's reference risk level",
            category_label="Merchant country", color_label="Country risk"),
        Table("topAlerts", "Largest critical alerts", _ALERTS,
              (("alert_at", "Time"), ("entity_type", "Type"), ("customer_id", "Customer"),
               ("primary_reason_code", "Rule"), ("reason_codes", "All rules"), ("fraud_score", "Score"),
               ("amount_usd", "Amount USD"), ("country", "Country"), ("customer_segment", "Segment")),
              sort_by="amount_usd", limit=15, where=Where("risk_band", ("critical",)),
              subtitle="Critical alerts with the most money at stake: the investigation queue"),
        Histogram("modelScores", "Fraud model probability of the alerted transactions", _ALERTS, "model_score", 0.1,
                  "Probability of confirmed fraud (promoted model)", domain=(0, 1), count_label="Alerts",
                  subtitle="Rules vs model: alerts the model rates low are the rules' likely false positives"),
        _drift_bar("fraudModelDrift", "Fraud model drift: PSI of its inputs, latest week vs training",
                   "fraud_classifier"),
    ),
    controls=(
        Control("date_range", "EventDate", "Event date",
                ((_ALERTS, "alert_date"), (_TXN, "transaction_date"), (_LOGINS, "login_date"),
                 (_GEO, "transaction_date"))),
        Control("multi_select", "Segment", "Customer segment",
                ((_ALERTS, "customer_segment"), (_TXN, "customer_segment"), (_LOGINS, "customer_segment"))),
        Control("multi_select", "Region", "Customer region",
                ((_ALERTS, REGION_FIELD), (_TXN, REGION_FIELD), (_LOGINS, REGION_FIELD))),
    ),
    notes=("Alerts by merchant country: the date control filters them; segment and region do not (merchant-country "
           "totals, not per customer).", "Model drift is per feature of the promoted model: no control filters it."),
)

CUSTOMER = Dashboard(
    id="customer-analytics",
    name="Customer Analytics",
    description="Segments, demographics, engagement, churn-risk distribution and the churn model beside it.",
    datasets=(_CUST, _ENG, _DRIFT),
    kpis=(
        KPI("kpiCustomers", "Customers", _CUST, Measure("customer_id", "COUNT", "Customers")),
        KPI("kpiProducts", "Products per customer", _CUST, Measure("product_count", "AVERAGE", "Products", "decimal")),
        KPI("kpiDeposits", "Deposit balances", _CUST, Measure("deposit_balance_usd", "SUM", "Deposits USD", "currency")),
        KPI("kpiHighChurn", "High churn risk", _ENG, Measure("customer_id", "COUNT", "Customers"),
            where=Where("churn_risk_band", ("high",))),
        KPI("kpiHighPropensity", "High churn propensity (model)", _ENG, Measure("customer_id", "COUNT", "Customers"),
            where=Where("churn_propensity_band", ("high",))),
    ),
    visuals=(
        Bar("segments", "Customers by segment and RFM group", _CUST, "customer_segment",
            Measure("customer_id", "COUNT", "Customers"), color="rfm_segment", category_label="Segment",
            color_label="RFM group"),
        Heatmap("demographics", "Customers by age and income band", _CUST, "age_band", "income_band",
                Measure("customer_id", "COUNT", "Customers"), rows_label="Age band", columns_label="Income band"),
        Bar("creditBands", "Average deposit balance by credit band", _CUST, "credit_band",
            Measure("deposit_balance_usd", "AVERAGE", "Avg deposits USD", "currency"), category_label="Credit band"),
        Donut("activityTrend", "Activity trend (30 days vs the 30 before)", _ENG, "activity_trend",
              Measure("customer_id", "COUNT", "Customers"), category_label="Trend"),
        Bar("engagementBySegment", "Logins per customer, last 30 days", _ENG, "customer_segment",
            Measure("logins_30d", "AVERAGE", "Logins (avg)", "decimal"), category_label="Segment"),
        Histogram("churnDistribution", "Churn-risk score distribution", _ENG, "churn_risk_score", 10,
                  "Churn-risk score (0-100)", subtitle="Customers per 10-point band"),
        Bar("churnBySegment", "Churn-risk band by segment", _ENG, "customer_segment",
            Measure("customer_id", "COUNT", "Customers"), color="churn_risk_band", category_label="Segment",
            color_label="Churn risk"),
        Heatmap("churnHeuristicVsModel", "Churn: heuristic band vs model propensity band", _ENG, "churn_risk_band",
                "churn_propensity_band", Measure("customer_id", "COUNT", "Customers"),
                where=Where("churn_propensity_band", ("low", "medium", "high")),
                subtitle="Customers active in the last 30 days, scored by both", rows_label="Heuristic band",
                columns_label="Model band"),
        _drift_bar("churnModelDrift", "Churn model drift: PSI of its inputs, latest cut-off vs training",
                   "churn_propensity"),
    ),
    controls=(
        Control("date_range", "CustomerSince", "Customer since", ((_CUST, "customer_since"),)),
        Control("multi_select", "Segment", "Customer segment",
                ((_CUST, "customer_segment"), (_ENG, "customer_segment"))),
        Control("multi_select", "Region", "Customer region", ((_CUST, REGION_FIELD), (_ENG, REGION_FIELD))),
    ),
    notes=("Engagement is measured at the reporting date (as_of_date): the date control filters the customer "
           "profile by relationship start.", "Model drift is per feature of the promoted model: no control filters it."),
)

REVENUE = Dashboard(
    id="revenue",
    name="Revenue",
    description="Fees by type, product performance, trends and revenue by customer segment.",
    datasets=(_REV,),
    kpis=(
        KPI("kpiRevenue", "Total revenue", _REV, Measure("revenue_usd", "SUM", "Revenue USD", "currency")),
        KPI("kpiInterest", "Interest income", _REV, Measure("revenue_usd", "SUM", "Interest USD", "currency"),
            where=Where("revenue_type", ("interest_income",))),
        KPI("kpiFees", "Fee income", _REV, Measure("revenue_usd", "SUM", "Fees USD", "currency"),
            where=Where("revenue_type", ("interchange_fee", "account_fee", "overdraft_fee", "fx_fee"))),
        KPI("kpiEvents", "Revenue events", _REV, Measure("event_count", "SUM", "Events")),
    ),
    visuals=(
        Donut("byType", "Revenue by type", _REV, "revenue_type", Measure("revenue_usd", "SUM", "Revenue USD", "currency"),
              category_label="Revenue type"),
        Bar("byProduct", "Revenue by product and type", _REV, "product",
            Measure("revenue_usd", "SUM", "Revenue USD", "currency"), color="revenue_type",
            category_label="Product", color_label="Revenue type"),
        Line("trend", "Daily revenue by type", _REV, "revenue_date",
             Measure("revenue_usd", "SUM", "Revenue USD", "currency"), color="revenue_type", granularity="DAY",
             color_label="Revenue type"),
        Bar("bySegment", "Revenue by customer segment", _REV, "customer_segment",
            Measure("revenue_usd", "SUM", "Revenue USD", "currency"), color="product", category_label="Segment",
            color_label="Product"),
        Heatmap("productSegment", "Revenue by product and segment", _REV, "product", "customer_segment",
                Measure("revenue_usd", "SUM", "Revenue USD", "currency"), rows_label="Product",
                columns_label="Segment"),
        Bar("byChannel", "Fee revenue by channel", _REV, "channel",
            Measure("revenue_usd", "SUM", "Revenue USD", "currency"), color="revenue_type",
            where=Where("revenue_type", ("interchange_fee", "account_fee", "overdraft_fee", "fx_fee")),
            category_label="Channel", color_label="Fee type"),
    ),
    controls=(
        Control("date_range", "RevenueDate", "Revenue date", ((_REV, "revenue_date"),)),
        Control("multi_select", "Segment", "Customer segment", ((_REV, "customer_segment"),)),
        Control("multi_select", "Region", "Customer region", ((_REV, REGION_FIELD),)),
    ),
)

DASHBOARDS: tuple[Dashboard, ...] = (FRAUD, CUSTOMER, REVENUE)


def dataset(dataset_id: str, datasets: tuple[Dataset, ...] = DATASETS) -> Dataset:
    for d in datasets:
        if d.id == dataset_id:
            return d
    raise KeyError(f"no dataset {dataset_id!r}: use one of {', '.join(d.id for d in datasets)}")
