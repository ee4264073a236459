"""Plan P and Inspect I: the stage graph of a fulfilment plan, and of a design on its own.

P (ARCHITECTURE.md, Stages): an offer leaf is `confirm`, a design node `make → inspect`, its
`make` depending on the last stage of every input; then the node's goods travel to where they
are used, by its leg (core.weave.legs):

  no leg, network plans no transport   ship → receive (the parties arrange it, as before legs)
  no leg, network plans transport      nothing: the goods are used where they are
  the sender's own delivery            ship → receive
  arranged (an end nobody located)     ship → receive (the parties arrange it)
  a transporter's vehicle              pickup → deliver → receive
  pick-up by the receiver              pickup → receive

Each order line ends in the buyer's `accept`, after the root's last stage.

Owners:
  confirm          the offer's supplier
  make, inspect    the operator of the facility
  ship             whoever sends the goods: the supplier, or the maker (the facility's operator)
  pickup, deliver  the vehicle's operator; a pick-up's `pickup` is the receiver's
  receive          whoever the goods go to: the operator of the parent node's facility, or the
                   buyer at the root of a line
  accept           the buyer

Composition at delivery (the paper's recursive composability): the stages under a node form a
complete stage graph of that node's sub-plan, whose delivery — the `receive` by the maker
upstream, or its last stage when nothing travels — plays the part of the buyer's `accept`.
`sub_graph` takes it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.network.model import Design, Network
from core.stages.graph import Stage, StageError, StageGraph, stage_id
from core.weave.legs import ARRANGED, DELIVERY, PICKUP, VEHICLE, Leg
from core.weave.plan import Plan, PlanNode
from core.weave.sources import Bought, Source, is_held


@dataclass
class _Builder:
    """Numbers stages as they are added, which is their dependency order."""

    stages: list[Stage] = field(default_factory=list)

    def add(
        self,
        kind: str,
        item: str,
        quantity: int,
        owner: str | None,
        node: str,
        source: str | None,
        depends_on: tuple[str, ...] = (),
    ) -> str:
        stage = Stage(
            stage_id(len(self.stages) + 1), kind, item, quantity, owner, node, source, depends_on
        )
        self.stages.append(stage)
        return stage.id

    def chain(self, kinds, item, quantity, owners, node, source, first_depends_on=()) -> str:
        """Stages one after another; returns the id of the last."""
        depends_on = tuple(first_depends_on)
        last = ""
        for kind, owner in zip(kinds, owners, strict=True):
            last = self.add(kind, item, quantity, owner, node, source, depends_on)
            depends_on = (last,)
        return last


def carriage_label(leg: Leg) -> str:
    """A vehicle's stages name the vehicle and the leg (`vehicle:truck-09:ana>dana`): a re-plan
    that sends the goods on from where they are is a new leg, whose stages start afresh."""
    ends = (
        leg.origin.facility or leg.origin.participant,
        leg.destination.facility or leg.destination.participant,
    )
    return f"{leg.id}:{ends[0]}>{ends[1]}"


def source_label(source: Source) -> str:
    if isinstance(source, Bought):
        return f"offer:{source.offer.id}"
    return f"design:{source.design.id}@{source.facility.id}"


# -- Plan P ------------------------------------------------------------------------------------


def plan_stages(network: Network, plan: Plan, buyer: str) -> StageGraph:
    """The stage graph of a plan, all stages pending: one sub-graph per order line.

    `network` is the supply network the plan was woven over; the owners are read from the
    offer and facility records the plan carries, which are that network's.
    """
    builder = _Builder()
    for line_number, line in enumerate(plan.lines):
        path = str(line_number)
        delivered = _node_stages(builder, network, line, path, buyer)
        label = source_label(line.source)
        after = (delivered,) if delivered else ()
        builder.add("accept", line.item, line.quantity, buyer, path, label, after)
    return StageGraph(builder.stages)


def _node_stages(
    builder: _Builder, network: Network, node: PlanNode, path: str, receiver: str | None
) -> str | None:
    """Add the stages of a node and everything under it; returns the id of the stage its
    parent waits for (None: nothing to wait for, the goods are already where they are used)."""
    source = node.source
    operator = None if isinstance(source, Bought) else source.facility.operator
    inputs_done = tuple(
        done
        for k, child in enumerate(node.inputs)
        if (done := _node_stages(builder, network, child, f"{path}.{k}", operator))
    )
    own = node_stage_owners(network, source, node.leg, receiver)
    if not own:
        return None
    last, depends_on = None, inputs_done
    for kind, owner in own:
        # A vehicle's stages are the vehicle's: when they fail, the re-plan avoids the vehicle,
        # not the maker or supplier whose goods it carried.
        carried = (
            kind in ("pickup", "deliver") and node.leg is not None and node.leg.kind == VEHICLE
        )
        label = carriage_label(node.leg) if carried else source_label(source)
        last = builder.add(kind, node.item, node.quantity, owner, path, label, depends_on)
        depends_on = (last,)
    return last


def node_stage_owners(
    network: Network, source: Source, leg: Leg | None, receiver: str | None
) -> tuple[tuple[str, str | None], ...]:
    """(kind, owner) of the stages of one node, in order: its source's own (`confirm`, or `make
    → inspect`), then those that take its goods to `receiver` by its leg. Plan P chains them,
    the first waiting for its inputs; the risk of a plan sums over them."""
    return own_stage_owners(source) + moving_stage_owners(network, source, leg, receiver)


def own_stage_owners(source: Source) -> tuple[tuple[str, str | None], ...]:
    """(kind, owner) of a node's own stages: `confirm`, or `make → inspect` (none for work in
    progress)."""
    if is_held(source):
        return ()
    if isinstance(source, Bought):
        return (("confirm", source.offer.supplier),)
    operator = source.facility.operator
    return (("make", operator), ("inspect", operator))


def moving_key(source: Source) -> tuple:
    """What `moving_stage_owners` reads of a source: its sender, and whether it is work in
    progress."""
    if isinstance(source, Bought):
        return (source.offer.supplier, is_held(source))
    return (source.facility.operator, False)


def moving_stage_owners(
    network: Network, source: Source, leg: Leg | None, receiver: str | None
) -> tuple[tuple[str, str | None], ...]:
    """(kind, owner) of the stages that take a node's goods to `receiver` by `leg`."""
    if isinstance(source, Bought):
        sender = source.offer.supplier
        if is_held(source) and leg is None and not network.plans_transport and sender == receiver:
            return ()  # work in progress held where it is used
    else:
        sender = source.facility.operator
    return _moving(network, leg, sender, receiver)


def _moving(
    network: Network, leg: Leg | None, sender: str | None, receiver: str | None
) -> tuple[tuple[str, str | None], ...]:
    """The stages that take a node's goods from `sender` to `receiver` by `leg`."""
    if leg is None and network.plans_transport:
        # The network says how goods move and chose no leg: sender and receiver are one place.
        return ()
    if leg is None or leg.kind in (DELIVERY, ARRANGED):
        return (("ship", sender), ("receive", receiver))
    if leg.kind == VEHICLE:
        return (("pickup", leg.carrier), ("deliver", leg.carrier), ("receive", receiver))
    if leg.kind == PICKUP:  # the receiver fetches the goods itself
        return (("pickup", receiver), ("receive", receiver))
    raise StageError(f"unknown kind of leg {leg.kind!r}")


def sub_graph(graph: StageGraph, node_path: str) -> StageGraph:
    """The stage graph of the sub-plan at `node_path`: its node's stages and all below it.

    It is closed: nothing under a node waits for a stage outside it. Stage ids are kept, so a
    status read in the sub-graph is the status in the whole.
    """
    below = node_path + "."
    stages = [s for s in graph if s.node == node_path or s.node.startswith(below)]
    if not stages:
        raise StageError(f"no plan node {node_path} in this stage graph")
    return StageGraph(stages)


# -- Inspect I ---------------------------------------------------------------------------------


def inspect_design(network: Network, design_id: str) -> StageGraph:
    """The stage graph of one batch of a design, before any supplier or facility is chosen.

    Every input is a material requirement: a `receive` owned by nobody yet. An input that some
    design makes is expanded through the first such design in the network's declaration order
    (one whose inputs are known), as `make → inspect → ship → receive` over its own inputs —
    the same shape Plan P gives a made input; an item already being made above it on the path
    is not expanded again (the weave's path-local cycle cut), it stays a material. The design
    itself ends in `make → inspect`. Owners are None throughout: no facility is chosen.
    """
    design = network.designs.get(design_id)
    if design is None:
        raise StageError(f"no design {design_id!r} in the network")
    if not design.inputs_known:
        raise StageError(f"design {design_id!r} does not say what goes into it")
    builder = _Builder()
    received = _requirements(builder, network, design, 1, "0", frozenset({design.makes}))
    builder.chain(
        ("make", "inspect"),
        design.makes,
        design.yield_,
        (None, None),
        "0",
        f"design:{design.id}",
        received,
    )
    return StageGraph(builder.stages)


def _requirements(
    builder: _Builder,
    network: Network,
    design: Design,
    batches: int,
    path: str,
    above: frozenset[str],
) -> tuple[str, ...]:
    received = []
    for k, (item, per_batch) in enumerate(design.inputs):
        quantity = per_batch * batches
        node = f"{path}.{k}"
        maker = None if item in above else _first_design(network, item)
        if maker is None:
            received.append(builder.add("receive", item, quantity, None, node, None))
            continue
        runs = -(-quantity // maker.yield_)
        below = _requirements(builder, network, maker, runs, node, above | {item})
        received.append(
            builder.chain(
                ("make", "inspect", "ship", "receive"),
                item,
                quantity,
                (None, None, None, None),
                node,
                f"design:{maker.id}",
                below,
            )
        )
    return tuple(received)


def _first_design(network: Network, item: str) -> Design | None:
    for design in network.designs.values():
        if design.makes == item and design.inputs_known:
            return design
    return None
