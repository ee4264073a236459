"""The terminal front end: one person plays every participant (`/as`), the embedded default."""
