"""pix2pix for ganzoo."""
