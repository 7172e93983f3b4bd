"""BigGAN-lite passes the ganzoo conformance kit."""

from ganzoo.testing import conformance_tests

TestConformance = conformance_tests(plugin="biggan-lite")
