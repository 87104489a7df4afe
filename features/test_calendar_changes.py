"""Binds features/calendar_changes.feature and supplementation_once.feature (SQLite and PostgreSQL)."""

from pytest_bdd import scenarios

scenarios("calendar_changes.feature", "supplementation_once.feature")
