"""The application's use cases: one command, one handler, one transaction (see bus.py and the
handler table in handlers.py). The composition root, bots/bootstrap.py, builds `Services`."""
