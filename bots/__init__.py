"""Front ends: the `scis` command line now, chat adapters later."""
