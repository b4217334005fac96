"""Alembic migrations (async env, batch mode on SQLite); run with ``nagovori migrate``."""
