from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.training.app import create_app as create_training
from services.training.tests.support import Training
from shared.testing.service import ServiceHarness


@pytest.fixture
async def training(run_service: Any) -> AsyncIterator[Training]:
    """The training app alone (no relay, no consumers): projections are seeded by applying events directly."""
    async with run_service("training", create_training, run_workers=False) as svc:
        yield Training(svc)


@pytest.fixture
def svc(training: Training) -> ServiceHarness:
    return training.svc
