"""A plan's outlook in words — its chance of failing, its riskiest stage, how local it is — as
frames and plan lines show it. Core gives the figures (core.service.risk.plan_outlook)."""

from __future__ import annotations

from core.service.risk import percent

DOING = {
    "make": "making",
    "ship": "shipping",
    "confirm": "confirming",
    "receive": "receiving",
    "inspect": "inspecting",
    "accept": "accepting",
    "pickup": "picking up",
    "deliver": "delivering",
}


def outlook_text(outlook: dict | None) -> str:
    """ "19 % risk (riskiest: Fab Lab Santurce making Face shield, 9 %) · 60 % of the weight
    made within 50 km", or "" when not known."""
    if not outlook:
        return ""
    parts = [f"{percent(outlook['failure'])} risk"]
    top = outlook.get("riskiest")
    if top:
        doing = DOING.get(top["kind"], top["kind"])
        parts[0] += f" (riskiest: {top['owner']} {doing} {top['item']}, {percent(top['failure'])})"
    if outlook.get("local_mass") is not None:
        parts.append(
            f"{percent(outlook['local_mass'])} of the weight made within "
            f"{outlook['radius_km']:g} km"
        )
    return " · ".join(parts)
