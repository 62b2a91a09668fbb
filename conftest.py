"""Fixtures for every test in the repository (see hjemflyt.shared.testing)."""

pytest_plugins = ["hjemflyt.shared.testing"]
