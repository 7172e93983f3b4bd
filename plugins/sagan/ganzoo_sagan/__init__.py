"""SAGAN for ganzoo: the entry point is :mod:`ganzoo_sagan.plugin`; the networks are ``ganzoo.nn.snresnet``'s."""
