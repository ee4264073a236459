"""What `scis worker` hands to Dramatiq: the actors, with the senders of every configured chat
platform (workers/ itself knows no platform; the adapters live here in bots/)."""

from __future__ import annotations

from bots.platforms import platform_senders
from core.store.database import make_engine
from workers import actors  # declares the actors on the broker Dramatiq will run

actors.configure(None, platform_senders(make_engine()))
