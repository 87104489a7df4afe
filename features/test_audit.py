"""Binds features/audit.feature (each scenario runs on SQLite and PostgreSQL)."""

from pytest_bdd import scenarios

scenarios("audit.feature")
