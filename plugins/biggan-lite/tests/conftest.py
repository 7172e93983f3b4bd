"""Run this plugin's tests single-threaded: on a loaded 2-core CI machine two contended torch threads make
tiny networks tens of times slower (OpenMP workers spin and get descheduled)."""

from typing import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
