"""Root conftest: the shared fixtures serve both tests/ and features/."""

pytest_plugins = ["tests.support.fixtures"]
