"""Binds features/language_centre_establishment.feature (each scenario runs on SQLite and PostgreSQL)."""

from pytest_bdd import scenarios

scenarios("language_centre_establishment.feature")
