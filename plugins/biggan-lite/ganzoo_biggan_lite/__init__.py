"""BigGAN-lite for ganzoo: the entry point is :mod:`ganzoo_biggan_lite.plugin`; the networks are ``ganzoo.nn.snresnet``'s."""
