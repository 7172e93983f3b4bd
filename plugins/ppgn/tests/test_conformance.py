"""PPGN passes the ganzoo conformance kit (the frozen classifier may stay unchanged by a train step)."""

from ganzoo.testing import ConformanceSuite


class TestConformance(ConformanceSuite):
    models = ["ppgn"]
    frozen_networks = {"classifier"}
