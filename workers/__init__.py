"""Dramatiq actors around core (the workers issue fills this in)."""
