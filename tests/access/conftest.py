"""The access tests read one tenant whose figures no answer could hold by chance (tests.support.figured)."""

import pytest

from tests.support.figured import Figured, build_figured


@pytest.fixture
def figured(world) -> Figured:
    return build_figured(world)
