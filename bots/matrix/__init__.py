"""The Matrix front end (matrix-nio): the adapter that answers people in their rooms, the order
rooms where an order's parties talk, and the `Sender` the delivery workers use.

One module, one purpose: `settings` (the environment), `devices` (one olm device per process,
for encrypted rooms), `connection` (log in), `memory` (what survives a restart, in the
PlatformState table), `rendering` (a reply as Matrix content),
`posting` (putting content in a room, uploads, errors), `invites`, `adapter` (the sync loop),
`order_rooms`, `direct_rooms`, `sender`.
"""

from bots.matrix.adapter import MatrixAdapter, run_matrix
from bots.matrix.sender import MatrixSender
from bots.matrix.settings import MatrixSettings

__all__ = ["MatrixAdapter", "MatrixSender", "MatrixSettings", "run_matrix"]
