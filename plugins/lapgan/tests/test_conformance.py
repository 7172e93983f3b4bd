"""LAPGAN passes the ganzoo conformance kit (lapgan and lapgan-cc)."""

from ganzoo.testing import conformance_tests

TestConformance = conformance_tests(plugin="lapgan")
