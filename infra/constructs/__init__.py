"""Reusable constructs: each a logical unit with keyword-only arguments and its resources as attributes."""
