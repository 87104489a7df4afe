"""Binds features/sla.feature (each scenario runs on SQLite and PostgreSQL)."""

from pytest_bdd import scenarios

scenarios("sla.feature")
