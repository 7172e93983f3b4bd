"""Building blocks shared by the official plugins (and available to third-party ones)."""
