"""Binds features/national_standard_school.feature (each scenario runs on SQLite and PostgreSQL)."""

from pytest_bdd import scenarios

scenarios("national_standard_school.feature")
