"""The bank's chart palette: used by the QuickSight theme (CreateTheme configuration) and the local renderer."""

from __future__ import annotations

# Colour-blind-safe categorical palette (Okabe–Ito order, navy first for the bank's primary colour).
DATA_COLORS = ("#1F3A5F", "#E69F00", "#56B4E9", "#009E73", "#D55E00", "#CC79A7", "#0072B2", "#F0E442",
               "#7F7F7F", "#8C564B")
# Risk bands always read the same way, on every chart: low calm, critical alarming.
RISK_COLORS = {"low": "#9CC3A5", "medium": "#F2C14E", "high": "#E07A2F", "critical": "#B2182B",
               "unknown": "#B0B0B0"}
GRADIENT = ("#F3F6FA", "#1F3A5F")
FONT = "Amazon Ember, Helvetica, Arial, sans-serif"


def theme_configuration() -> dict:
    """QuickSight ThemeConfiguration (PascalCase, API shape)."""
    return {
        "DataColorPalette": {"Colors": list(DATA_COLORS), "MinMaxGradient": list(GRADIENT),
                             "EmptyFillColor": "#FFFFFF"},
        "UIColorPalette": {"PrimaryForeground": "#1B1B1B", "PrimaryBackground": "#FFFFFF",
                           "SecondaryForeground": "#4A4A4A", "SecondaryBackground": "#F3F6FA",
                           "Accent": "#1F3A5F", "AccentForeground": "#FFFFFF",
                           "Danger": "#B2182B", "DangerForeground": "#FFFFFF",
                           "Warning": "#E07A2F", "WarningForeground": "#1B1B1B",
                           "Success": "#009E73", "SuccessForeground": "#FFFFFF"},
        "Sheet": {"Tile": {"Border": {"Show": True}}, "TileLayout": {"Gutter": {"Show": True},
                                                                    "Margin": {"Show": True}}},
        "Typography": {"FontFamilies": [{"FontFamily": "Amazon Ember"}]},
    }
