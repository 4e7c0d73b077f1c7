"""Where the users' corrections are kept: a SQL database through SQLAlchemy Core (SQLite by
default, PostgreSQL by URL), its schema changed only by the Alembic migrations in
``migrations/``, applied at start-up."""
