"""LAPGAN for ganzoo."""
