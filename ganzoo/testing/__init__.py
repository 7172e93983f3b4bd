"""The conformance kit for ganzoo plugins (also loaded by pytest through the ``pytest11`` entry point).

A plugin's test suite reuses it in one line::

    from ganzoo.testing import conformance_tests

    TestConformance = conformance_tests("dcgan")          # or conformance_tests(plugin="dcgan") for all its models

or as a class to add checks of its own::

    from ganzoo.testing import ConformanceSuite

    class TestMyGAN(ConformanceSuite):
        models = ["my-gan"]

Importing this package is cheap (it is imported by every pytest run); the suite and the helpers load torch
only when they are used.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "ConformanceSuite": "ganzoo.testing.conformance",
    "conformance_tests": "ganzoo.testing.conformance",
    "LossConformanceSuite": "ganzoo.testing.conformance",
    "models_of_plugin": "ganzoo.testing.conformance",
    "tiny_run_config": "ganzoo.testing.helpers",
    "build_tiny_state": "ganzoo.testing.helpers",
    "synthetic_batch": "ganzoo.testing.helpers",
    "synthetic_batches": "ganzoo.testing.helpers",
    "seed_everything": "ganzoo.testing.helpers",
    "parameters_snapshot": "ganzoo.testing.helpers",
    "changed_networks": "ganzoo.testing.helpers",
    "sample_images": "ganzoo.testing.helpers",
    "pixel_frechet_distance": "ganzoo.testing.learning",
    "fake_entry_point": "ganzoo.testing.fakes",
    "FakeDistribution": "ganzoo.testing.fakes",
    "install_fake_plugin": "ganzoo.testing.fakes",
    "IsolatedEnvironment": "ganzoo.testing.isolated",
    "create_isolated_environment": "ganzoo.testing.isolated",
    "PIP_OFFLINE": "ganzoo.testing.isolated",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:  # PEP 562: import heavy parts on first use
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'ganzoo.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(module_name), name)
