"""GAN metrics for ganzoo: protocols, feature extractors and ``ganzoo bench`` (computed with torch-fidelity).

Importing this package is cheap; the heavy modules are :mod:`ganzoo.metrics.bench` (evaluation),
:mod:`ganzoo.metrics.extractors` (feature extractors) and :mod:`ganzoo.metrics.protocol` (protocols,
torch-free).
"""
