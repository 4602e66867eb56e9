"""Stacks only compose constructs; one module per stack. The Stage (infra/stage.py) wires them together."""
