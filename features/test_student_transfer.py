"""Binds features/student_transfer.feature (each scenario runs on SQLite and PostgreSQL)."""

from pytest_bdd import scenarios

scenarios("student_transfer.feature")
