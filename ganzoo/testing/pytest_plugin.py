"""pytest plugin (``pytest11`` entry point ``ganzoo``): fixtures for testing ganzoo plugins.

Loaded into every pytest session where ganzoo is installed, so it imports nothing heavy at module level.
Fixtures (all prefixed ``ganzoo_`` to stay out of other projects' way):

- ``ganzoo_host``: the process-wide :class:`~ganzoo.plugins.PluginHost` with every installed plugin.
- ``ganzoo_tiny_state``: a factory ``(model_name, seed=0, **train) -> GANState`` built from the model's
  ``tiny_config`` on the CPU.
- ``ganzoo_batches``: a factory ``(state, batch_size=None, seed=0) -> IteratorBatchSource`` of synthetic
  batches matching the model's task kind.
- ``ganzoo_one_torch_thread``: runs a test with one torch thread; plugins apply it to every test with
  ``usefixtures = ["ganzoo_one_torch_thread"]`` under ``[tool.pytest.ini_options]`` (on a loaded 2-core
  machine, contended torch threads make tiny networks tens of times slower: OpenMP workers spin and get
  descheduled).
- ``ganzoo_isolated_env`` (session): an :class:`~ganzoo.testing.isolated.IsolatedEnvironment`, a venv with the
  current packages but no ganzoo plugins, to test that a plugin installs and registers for real.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest


@pytest.fixture
def ganzoo_host() -> Any:
    """The plugin host with every installed plugin loaded."""
    from ganzoo.plugins import get_host

    return get_host()


@pytest.fixture
def ganzoo_tiny_state() -> Callable[..., Any]:
    """Factory building a CPU :class:`~ganzoo.state.GANState` of a model from its ``tiny_config``."""
    from ganzoo.testing.helpers import build_tiny_state

    return build_tiny_state


@pytest.fixture
def ganzoo_batches() -> Callable[..., Any]:
    """Factory of an endless :class:`~ganzoo.state.IteratorBatchSource` of synthetic batches for a state."""
    from ganzoo.testing.helpers import synthetic_batches

    return synthetic_batches


@pytest.fixture(scope="session")
def ganzoo_isolated_env(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A throw-away venv that sees the current environment's packages except its ganzoo plugins."""
    from ganzoo.testing.isolated import create_isolated_environment

    return create_isolated_environment(tmp_path_factory.mktemp("ganzoo-isolated"))


@pytest.fixture
def ganzoo_one_torch_thread() -> Iterator[None]:
    """Run the test with one torch thread, restoring the previous count afterwards."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
