"""Binds features/language_centre_operation.feature (each scenario runs on SQLite and PostgreSQL)."""

from pytest_bdd import scenarios

scenarios("language_centre_operation.feature")
