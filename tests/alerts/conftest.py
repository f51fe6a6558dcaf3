"""Fixtures of the warning-engine tests; the inventory helpers push the data they read."""

from tests.inventory.conftest import shop  # noqa: F401 - the same one-SKU shop fixture
