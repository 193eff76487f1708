"""Shared test set-up: a hypothesis profile that keeps the suite to a few minutes on 2 cores,
and the ``gpu`` marker's skip where CuPy or a GPU is missing (the one skip allowed)."""
import os

import pytest
from hypothesis import HealthCheck, settings

import tinynet as tn

settings.register_profile("default", max_examples=12, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_collection_modifyitems(config, items):
    if tn.gpu_available():
        return
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seeded():
    tn.manual_seed(0)
