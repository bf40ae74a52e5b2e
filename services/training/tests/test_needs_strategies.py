"""Training needs answered by walking the cadres in sort-key order, for every subtree.

A subtree with few posts is served from its posts, the country and large subtrees by walking the cadres
(``services.training.needs.repository``): with no threshold, the needs scenario's subtree and scope queries
take the walk too, and must give the same answers.
"""

from __future__ import annotations

import pytest

from services.training.needs import repository
from services.training.tests.support import Training
from services.training.tests.test_qualifications_needs import (
    test_training_needs_follow_posts_plans_and_completions as needs_scenario,
)


async def test_needs_walking_the_cadres_for_every_subtree(
    training: Training, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository, "POSTS_FROM_SUBTREE", 0)
    await needs_scenario(training)
