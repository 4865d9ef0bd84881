import os

import pytest
import torch

# A page's job is cancelled when its browser session stops polling for RESNET_LAB_SESSION_TIMEOUT seconds (30 by
# default). AppTest polls only when a test reruns the script, and page tests wait on jobs in between: give them
# ten minutes. The orphan rule itself is tested directly (tests/test_jobs.py) and in the browser test.
os.environ.setdefault("RESNET_LAB_SESSION_TIMEOUT", "600")

from resnet_core.data.datasets import load_dataset


@pytest.fixture(scope="session")
def bundled():
    return load_dataset("bundled")


@pytest.fixture(scope="session")
def tiny_train(bundled):
    """200 real images (20 per class): enough for a loss to fall in a few dozen steps."""
    from resnet_core.data.datasets import stratified_kshot

    return bundled.train.subset(stratified_kshot(bundled.train.labels, 20, seed=0))


@pytest.fixture
def cpu():
    return torch.device("cpu")


@pytest.fixture(scope="session", autouse=True)
def _finish_background_work():
    """Pages start background threads (the server-speed calibration behind "≈ N s", the architecture zoo
    count): let them finish before the interpreter exits, or torch aborts the process mid-operation."""
    yield
    import threading

    for thread in threading.enumerate():
        if thread.name.startswith(("resnet-lab-calibrate-", "resnet-lab-zoo-")):
            thread.join(timeout=300)
