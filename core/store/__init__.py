"""Storage: the SQLModel tables, their Alembic migrations, the database engine, the unit of work
(one transaction per use case) and what chat adapters keep across restarts. The use cases read
and write the tables themselves (core/service/records.py holds the reads they share)."""
