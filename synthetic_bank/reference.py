"""Reference data the generator samples from: places, merchants, names, devices.

Kept apart from the generator so the distributions are easy to read and tune. Country names are written the
way the seed extracts write them (USA, UK, Canada, ...), because that is what the source systems send.
"""

from __future__ import annotations

import numpy as np

# (city, state/province, country, ISO currency, latitude, longitude, zip prefix). Home cities of customers.
HOME_CITIES: tuple[tuple[str, str, str, str, float, float, str], ...] = (
    ("New York", "NY", "USA", "USD", 40.7128, -74.0060, "100"),
    ("Los Angeles", "CA", "USA", "USD", 34.0522, -118.2437, "900"),
    ("Chicago", "IL", "USA", "USD", 41.8781, -87.6298, "606"),
    ("Houston", "TX", "USA", "USD", 29.7604, -95.3698, "770"),
    ("Miami", "FL", "USA", "USD", 25.7617, -80.1918, "331"),
    ("Seattle", "WA", "USA", "USD", 47.6062, -122.3321, "981"),
    ("Boston", "MA", "USA", "USD", 42.3601, -71.0589, "021"),
    ("Denver", "CO", "USA", "USD", 39.7392, -104.9903, "802"),
    ("Austin", "TX", "USA", "USD", 30.2672, -97.7431, "787"),
    ("San Francisco", "CA", "USA", "USD", 37.7749, -122.4194, "941"),
    ("Atlanta", "GA", "USA", "USD", 33.7490, -84.3880, "303"),
    ("Phoenix", "AZ", "USA", "USD", 33.4484, -112.0740, "850"),
    ("Toronto", "ON", "Canada", "CAD", 43.6532, -79.3832, "M5V"),
    ("Vancouver", "BC", "Canada", "CAD", 49.2827, -123.1207, "V6B"),
    ("Montreal", "QC", "Canada", "CAD", 45.5017, -73.5673, "H2Y"),
    ("London", "England", "UK", "GBP", 51.5074, -0.1278, "EC1"),
    ("Manchester", "England", "UK", "GBP", 53.4808, -2.2426, "M1 "),
    ("Mexico City", "CDMX", "Mexico", "MXN", 19.4326, -99.1332, "060"),
    ("Guadalajara", "JAL", "Mexico", "MXN", 20.6597, -103.3496, "441"),
)
# Population weights of the home cities (the bank is mostly US, with Canadian, UK and Mexican branches).
HOME_CITY_WEIGHTS = np.array([14, 9, 7, 6, 6, 5, 5, 4, 4, 5, 4, 4, 5, 3, 3, 6, 2, 3, 1], dtype=float)

# Cities customers travel to, merchants abroad, and where attackers appear from.
FOREIGN_CITIES: tuple[tuple[str, str, float, float], ...] = (
    ("Paris", "France", 48.8566, 2.3522),
    ("Berlin", "Germany", 52.5200, 13.4050),
    ("Tokyo", "Japan", 35.6762, 139.6503),
    ("Sydney", "Australia", -33.8688, 151.2093),
    ("Madrid", "Spain", 40.4168, -3.7038),
    ("Rome", "Italy", 41.9028, 12.4964),
    ("Zurich", "Switzerland", 47.3769, 8.5417),
    ("Sao Paulo", "Brazil", -23.5505, -46.6333),
    ("Singapore", "Singapore", 1.3521, 103.8198),
    ("Dubai", "UAE", 25.2048, 55.2708),
    ("Bucharest", "Romania", 44.4268, 26.1025),
    ("Kyiv", "Ukraine", 50.4501, 30.5234),
)

# Jurisdictions the bank's AML policy treats as high risk (FATF "call for action" / increased-monitoring style
# list). The high_risk_geography scenario sends money or card spend there; rules should use this same list.
HIGH_RISK_CITIES: tuple[tuple[str, str, float, float], ...] = (
    ("Lagos", "Nigeria", 6.5244, 3.3792),
    ("Moscow", "Russia", 55.7558, 37.6173),
    ("Tehran", "Iran", 35.6892, 51.3890),
    ("Yangon", "Myanmar", 16.8409, 96.1735),
    ("Caracas", "Venezuela", 10.4806, -66.9036),
    ("Pyongyang", "North Korea", 39.0392, 125.7625),
)

# ISO 4217 currency a card purchase or cash withdrawal in each place's country settles in (home countries' too).
# Their reference rates are the dbt seed ref_fx_rates.csv, which the generator reads (one list of rates).
COUNTRY_CURRENCY: dict[str, str] = {
    "USA": "USD", "UK": "GBP", "Canada": "CAD", "Mexico": "MXN",
    "France": "EUR", "Germany": "EUR", "Spain": "EUR", "Italy": "EUR", "Japan": "JPY", "Australia": "AUD",
    "Switzerland": "CHF", "Brazil": "BRL", "Singapore": "SGD", "UAE": "AED", "Romania": "RON", "Ukraine": "UAH",
    "Nigeria": "NGN", "Russia": "RUB", "Iran": "IRR", "Myanmar": "MMK", "Venezuela": "VES", "North Korea": "KPW",
}
HIGH_RISK_COUNTRIES: tuple[str, ...] = tuple(sorted({c[1] for c in HIGH_RISK_CITIES}))

# merchant_category -> (merchants as (name, MCC), median amount, lognormal sigma, share card-not-present, weight)
PURCHASE_CATEGORIES: dict[str, tuple[tuple[tuple[str, str], ...], float, float, float, float]] = {
    "grocery": ((("Whole Foods", "5411"), ("Kroger", "5411"), ("Trader Joes", "5411"), ("Safeway", "5411")), 55, 0.6, 0.10, 20),
    "food": ((("Starbucks", "5814"), ("McDonalds", "5814"), ("Chipotle", "5814"), ("Olive Garden", "5812")), 18, 0.7, 0.15, 22),
    "retail": ((("Amazon", "5999"), ("Target", "5310"), ("Walmart", "5311"), ("Macys", "5311")), 60, 0.9, 0.45, 15),
    "electronics": ((("Best Buy", "5732"), ("Apple Store", "5732"), ("Newegg", "5732")), 250, 1.0, 0.50, 4),
    "healthcare": ((("CVS Pharmacy", "5912"), ("Walgreens", "5912"), ("City Dental", "8021")), 45, 0.8, 0.05, 5),
    "travel": ((("Delta Air Lines", "3058"), ("United Airlines", "3000"), ("Marriott", "3509"), ("Expedia", "4722")), 380, 0.9, 0.80, 3),
    "entertainment": ((("Netflix", "4899"), ("Spotify", "5815"), ("AMC Theatres", "7832"), ("Ticketmaster", "7922")), 20, 0.8, 0.60, 6),
    "fuel": ((("Shell", "5541"), ("Chevron", "5542"), ("ExxonMobil", "5541")), 45, 0.4, 0.00, 9),
    "utilities": ((("ConEd", "4900"), ("Verizon", "4814"), ("Comcast", "4899")), 110, 0.5, 1.00, 5),
    "digital_goods": ((("Google Play", "5816"), ("Steam", "5816"), ("App Store", "5818")), 12, 0.8, 1.00, 3),
    "jewelry": ((("Kay Jewelers", "5944"), ("Zales", "5944")), 300, 1.0, 0.30, 0.5),
    "gambling": ((("DraftKings", "7995"), ("BetMGM", "7995")), 50, 1.0, 1.00, 0.7),
    "crypto": ((("Coinbase", "6051"), ("Kraken", "6051")), 200, 1.1, 1.00, 0.4),
}

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "William",
    "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos", "Karen", "Daniel", "Lisa",
    "Matthew", "Nancy", "Anthony", "Sofia", "Mark", "Ana", "Wei", "Priya", "Ahmed", "Olivia", "Liam", "Emma",
    "Noah", "Ava", "Lucas", "Mia", "Mateo", "Chloe",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee",
    "Perez", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Chen", "Patel", "Khan",
    "Nguyen", "Kim", "Singh", "Tremblay", "Roy", "Evans", "Hughes",
)
STREETS = ("Main St", "Park Ave", "Oak St", "Pine Rd", "Maple Dr", "Cedar Ln", "Elm St", "Birch Ave", "Spruce Rd",
           "Walnut Dr", "Lake View Rd", "Hill St", "River Rd", "Sunset Blvd", "King St", "Queen St")
OCCUPATIONS = ("Software Engineer", "Teacher", "Nurse", "Accountant", "Sales Associate", "Doctor", "Consultant",
               "Designer", "Architect", "Student", "Retired", "Electrician", "Chef", "Lawyer", "Driver",
               "Marketing Manager", "Financial Analyst", "Small Business Owner", "Pharmacist", "Mechanic")
EMAIL_DOMAINS = ("email.com", "mail.com", "inbox.net", "post.org")

# device_type -> (browsers/apps, operating systems, weight)
DEVICE_TYPES = {
    "mobile": (("Chrome", "Safari", "BankApp"), ("iOS", "Android"), 0.6),
    "desktop": (("Chrome", "Firefox", "Edge", "Safari"), ("Windows", "MacOS", "Linux"), 0.3),
    "tablet": (("Safari", "Chrome", "BankApp"), ("iOS", "Android"), 0.1),
}
