"""Weights of the feature extractors ganzoo ships (package data; see ganzoo.metrics.classifier)."""
