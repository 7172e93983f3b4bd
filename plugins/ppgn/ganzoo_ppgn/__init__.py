"""Plug & Play Generative Networks for ganzoo (see ganzoo_ppgn.plugin)."""
