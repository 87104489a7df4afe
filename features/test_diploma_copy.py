"""Binds features/diploma_copy.feature (runs on SQLite and PostgreSQL through the engine fixture)."""

from pytest_bdd import scenarios

scenarios("diploma_copy.feature")
