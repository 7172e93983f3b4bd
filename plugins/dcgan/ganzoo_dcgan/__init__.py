"""DCGAN for ganzoo."""
