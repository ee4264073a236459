"""What `scis serve` says first on the terminal: where the data is, and what to type."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from sqlmodel import select

from bots.bootstrap import App
from core.store.tables import ParticipantRow


def greeting(app: App, where: str, log: Path) -> str:
    """Rich markup for the first screen: a newcomer learns how to become someone and order."""

    def read(session):
        return list(session.exec(select(ParticipantRow).order_by(ParticipantRow.id)))

    people = app.services.read(read)
    loaded = ", ".join(path.name for path in app.loaded)
    network = f", network {escape(loaded)} loaded" if loaded else ""
    buyer = next((p for p in people if "buyer" in p.roles), people[0] if people else None)
    lines = [
        f"[bold]SCIS[/] on this terminal — {len(people)} participants in {escape(where)}{network}."
        f" Logs go to {escape(str(log))}.",
        "You are a newcomer. Speak as anyone in the network with /as PARTICIPANT; every message "
        "SCIS sends anyone appears here after [bold cyan]→[/] and their name.",
    ]
    if buyer is not None:
        lines.append(
            f"To begin: [bold]/as {escape(buyer.id)}[/] ({escape(buyer.name)}), then "
            "[bold]/catalog[/] and [bold]/order ITEM QTY[/]."
        )
    lines.append("/help lists what you can do, /quit leaves.")
    return "\n".join(lines)
