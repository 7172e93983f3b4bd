"""DCGAN passes the ganzoo conformance kit (every model the plugin registers)."""

from ganzoo.testing import conformance_tests

TestConformance = conformance_tests(plugin="dcgan")
