"""The supply network: its records, its file format and the rules that keep it consistent."""

from core.network.diagnostics import Diagnostic
from core.network.model import (
    Design,
    Facility,
    Item,
    Location,
    Network,
    Offer,
    Origin,
    Participant,
    Substitute,
    Transport,
)

__all__ = [
    "Design",
    "Diagnostic",
    "Facility",
    "Item",
    "Location",
    "Network",
    "Offer",
    "Origin",
    "Participant",
    "Substitute",
    "Transport",
]
