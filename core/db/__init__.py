"""Database access: the engine and sessions (``database``) and the tables (``models``)."""
