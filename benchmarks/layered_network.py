"""A seeded generator of layered supply networks for benchmarks.

Layer 0 holds the finished goods, the last layer raw materials. Every item above the last
layer has `alternatives` designs, each needing `fan_in` items of the next layers; raw materials
and a share of the intermediate items are also sold through offers. Facilities offer random
subsets of a few processes, so each design can run at several of them.

With `transport`, goods must be moved between places (core/weave/legs.py): everyone has a place
within about 100 km of the others, items weigh something, two vehicles (a van of 200 km range
and a truck of any range, both priced per km) serve every leg, and half of the offers and of
the facilities deliver their goods themselves: two or three ways to move every leg between two
places.
"""

from __future__ import annotations

import random

from core.network.model import (
    Delivery,
    Design,
    Facility,
    Item,
    Location,
    Network,
    Offer,
    Participant,
    Transport,
)

PROCESSES = ("cnc", "3dp", "laser", "sewing", "welding", "assembly", "casting", "turning")


def layered_network(
    items: int,
    depth: int,
    fan_in: int,
    alternatives: int,
    facilities: int = 12,
    offers_per_raw: int = 2,
    offered_share: float = 0.2,
    seed: int = 7,
    transport: bool = False,
) -> Network:
    rng = random.Random(seed)
    # Drawn from their own generator, so that the network with transport has the same items,
    # designs, offers and facilities as the one without.
    moves = random.Random(seed + 1)

    def delivery() -> Delivery | None:
        if not transport or moves.random() < 0.5:
            return None
        return Delivery(range_km=250.0, price=round(moves.uniform(0, 10), 2), price_per_km=0.2)

    per_layer = max(1, items // depth)
    layers = [[f"item-{layer}-{k}" for k in range(per_layer)] for layer in range(depth)]

    def place() -> Location:
        return Location(39.0 + rng.random(), -77.0 + rng.random())

    participants = [
        Participant(f"maker-{k}", f"Maker {k}", ("maker",), place()) for k in range(facilities)
    ]
    participants += [
        Participant(f"supplier-{k}", f"Supplier {k}", ("supplier",), place()) for k in range(20)
    ]
    vehicles = []
    if transport:
        depot = Location(39.0 + moves.random(), -77.0 + moves.random())
        participants.append(Participant("haulier", "Haulier", ("transporter",), depot))
        vehicles = [
            Transport(
                "van",
                "haulier",
                capacity_kg=800.0,
                price_per_km=0.6,
                range_km=200.0,
                base_price=15.0,
                speed_kmh=60.0,
            ),
            Transport(
                "truck",
                "haulier",
                capacity_kg=10_000.0,
                price_per_km=1.4,
                base_price=60.0,
                speed_kmh=70.0,
                failure_probability=0.01,
            ),
        ]
    plants = [
        Facility(
            f"plant-{k}",
            f"maker-{k}",
            frozenset(rng.sample(PROCESSES, rng.randint(2, 4))),
            failure_probability=rng.choice([0.01, 0.02, 0.05, 0.1]),
            delivery=delivery(),
        )
        for k in range(facilities)
    ]
    records = [
        Item(
            item_id,
            item_id.replace("-", " "),
            mass_kg=round(moves.uniform(0.1, 20), 1) if transport else None,
        )
        for layer in layers
        for item_id in layer
    ]
    designs, offers = [], []

    def offer(item_id: str) -> None:
        offers.append(
            Offer(
                f"offer-{len(offers)}",
                f"supplier-{rng.randrange(20)}",
                item_id,
                price=round(rng.uniform(1, 50), 2),
                failure_probability=rng.choice([0.01, 0.03, 0.08]),
                lead_time_days=moves.choice((1.0, 2.0, 5.0)) if transport else None,
                delivery=delivery(),
            )
        )

    for depth_index, layer in enumerate(layers):
        below = [i for lower in layers[depth_index + 1 : depth_index + 3] for i in lower]
        for item_id in layer:
            if not below:
                for _ in range(offers_per_raw):
                    offer(item_id)
                continue
            if depth_index > 0 and rng.random() < offered_share:
                offer(item_id)
            for a in range(alternatives):
                inputs = rng.sample(below, min(fan_in, len(below)))
                designs.append(
                    Design(
                        f"{item_id}-d{a}",
                        item_id,
                        inputs=tuple((i, rng.choice((1, 1, 1, 2))) for i in inputs),
                        yield_=rng.choice((1, 1, 2)),
                        processes=frozenset({rng.choice(PROCESSES)}),
                        labor=round(rng.uniform(5, 40), 2) if rng.random() < 0.9 else None,
                        make_days=moves.choice((0.5, 1.0, 2.0)) if transport else None,
                    )
                )
    return Network.of(participants, records, designs, plants, offers, vehicles)


def top_item(network: Network) -> str:
    return next(iter(network.items))
