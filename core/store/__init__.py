"""Persistence: SQLModel tables, repository, unit of work (the dynamic-supply-chain issue)."""
