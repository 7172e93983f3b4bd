"""CycleGAN for ganzoo."""
