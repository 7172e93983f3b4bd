"""SAGAN passes the ganzoo conformance kit (both models the plugin registers)."""

from ganzoo.testing import conformance_tests

TestConformance = conformance_tests(plugin="sagan")
