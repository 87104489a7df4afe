"""Benchmarks and the load proof (``python run.py bench`` / ``loadtest``).

Wall-clock code lives here, outside engine/, which never reads the clock directly.
"""
