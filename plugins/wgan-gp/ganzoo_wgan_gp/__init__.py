"""WGAN-GP for ganzoo."""
