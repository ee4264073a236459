"""The workers: Dramatiq actors around core (actors.py), the outbox delivery, the sweeper, the
broker and the metrics. ARCHITECTURE.md shows where they sit."""
