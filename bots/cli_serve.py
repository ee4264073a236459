"""`scis serve`: the configured chat front ends, and with none of them, the terminal."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bots.cli_output import fail

NetworkFiles = Annotated[
    list[Path],
    typer.Option(
        "--network",
        "-n",
        help="Load or update the network from these files at start (default on an empty "
        "database: the example hurricane-city network).",
    ),
]


def serve(
    network: NetworkFiles = (),
    threads: Annotated[int, typer.Option(min=1, help="In-process worker threads.")] = 4,
):
    """Chat with SCIS: on Telegram (TELEGRAM_TOKEN) and Matrix (MATRIX_HOMESERVER …) when set,
    else on this terminal, where /as PARTICIPANT switches who you are."""
    from bots.bootstrap import EXAMPLE_NETWORK, NetworkProblem, Settings, bootstrap
    from bots.console.greeting import greeting
    from bots.console.sender import ConsoleSender
    from bots.console.terminal import Terminal
    from bots.logs import log_to_file, setup_logging
    from bots.matrix.settings import MatrixNotConfigured
    from bots.platforms import configured, serve_platforms
    from core.service.commands import SpeakForEveryone
    from workers.metrics import serve_from_environment

    try:
        chat_platforms = [platform.name for platform in configured()]
        settings = Settings.from_environment(threads=threads)
    except (MatrixNotConfigured, ValueError) as problem:
        fail(str(problem))
    console = Console(highlight=False)
    names: dict[str, str] = {}
    sender = ConsoleSender(console, lambda p: names.get(p, p))
    if not chat_platforms:  # the terminal is for the conversation; the workers log to a file
        log_to_file(Path("scis.log"))
    else:
        setup_logging()
    # With chat platforms, their senders (bootstrap's default); else the terminal's.
    app = bootstrap(settings, senders=None if chat_platforms else {sender.platform: sender})
    try:
        app.load_networks(network, example=EXAMPLE_NETWORK)
    except NetworkProblem as problem:
        app.stop()
        fail(f"the network cannot be loaded:\n{problem}")
    try:
        app.sweep_every(15.0)
        serve_from_environment(app.broker, app.services.engine)  # SCIS_METRICS_PORT
        conversation = app.conversation()
        if chat_platforms:
            console.print(f"SCIS serving on {' and '.join(chat_platforms)}; Ctrl-C stops it.")
            _until_interrupted(serve_platforms, conversation, app.services.engine)
            return
        app.services.handle(SpeakForEveryone(sender.platform))
        names.update(app.participants())
        where = os.environ.get("DATABASE_URL") or "scis.db (SQLite)"
        console.print(greeting(app, where, Path("scis.log")))

        def participants():
            names.update(app.participants())
            return names

        terminal = Terminal(conversation, console, participants, Path("scis-pictures"))
        sender.prompt = terminal.pending_prompt  # messages arriving while one types
        terminal.run()
        app.settle(timeout=10)
    finally:
        app.stop()


def _until_interrupted(serve_platforms, conversation, engine) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve_platforms(conversation, engine, stop)

    asyncio.run(main())
