import pytest
import torch

from resnet_core.data import load_dataset


@pytest.fixture(scope="session")
def bundled():
    return load_dataset("bundled")


@pytest.fixture(scope="session")
def tiny_train(bundled):
    """200 real images (20 per class): enough for a loss to fall in a few dozen steps."""
    from resnet_core.data import stratified_kshot

    return bundled.train.subset(stratified_kshot(bundled.train.labels, 20, seed=0))


@pytest.fixture
def cpu():
    return torch.device("cpu")
