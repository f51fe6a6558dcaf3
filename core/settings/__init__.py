"""Settings modules: ``main`` (from the environment) and ``test`` (the suite)."""
