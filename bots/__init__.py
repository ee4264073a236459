"""The front ends: the conversation, the Telegram, Matrix and terminal adapters, the `scis`
command line, the platform registry and the composition root (bootstrap.py)."""
