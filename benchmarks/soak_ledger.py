"""The soak's books: every outbox message the database says was sent, set against what reached
the person; and the figures of the run (latency percentiles, throughput, memory).

An outbox text carries no notification id, so messages are compared by text, per person: for
each person, the database's count of each text they were sent against how many times that
text reached them. A text that reached them less often was lost, more often duplicated. What
reaches a person may take more than one shape (a long Telegram text is split; a relayed /say
reaches a Matrix person either in their direct room or, once for all the parties there, in the
order's room as "Name: words"), so each message counts as delivered by any of its shapes, and
messages that share a shape are counted together. Texts no outbox message has (the bot's
answers to commands, another party's relay) are neither.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from soak_people import DIRECT, Arrival, Key, Sent, ways


@dataclass
class Books:
    sent: int = 0  # outbox messages the database marks sent
    pending: int = 0  # not sent when the soak stopped waiting
    failed: int = 0  # given up by the delivery (a permanent failure)
    expected: int = 0  # pieces: a Telegram text split in two is two
    lost: int = 0
    duplicated: int = 0
    lost_examples: list[str] = field(default_factory=list)
    duplicated_examples: list[str] = field(default_factory=list)
    # Where the extra copies were: "direct", "order room", or "direct and order room".
    duplicated_where: Counter[str] = field(default_factory=Counter)


def balance(
    notifications: list,
    platforms: dict[str, str],
    arrivals: dict[str, list[Arrival]],
    order_rooms: dict[str, int],
) -> Books:
    books = Books()
    expected: dict[str, list[tuple[Key, ...]]] = defaultdict(list)
    for row in notifications:
        if row.status == "pending":
            books.pending += 1
        elif row.status == "failed":
            books.failed += 1
        elif row.status == "sent":
            books.sent += 1
            expected[row.participant_id] += ways(row, platforms.get(row.participant_id, "matrix"))
    for who, pieces in expected.items():
        got = Counter((order_rooms.get(a.room, DIRECT), a.text) for a in arrivals.get(who, []))
        for shapes, count in _groups(pieces):
            arrived = sum(got[shape] for shape in shapes)
            books.expected += count
            if arrived == count:
                continue
            where = ", ".join(
                f"{'direct' if tag == DIRECT else f'order {tag} room'} ×{got[(tag, words)]}"
                for tag, words in shapes
            )
            line = f"{who}: {shapes[0][1][:90]!r} sent {count}, got {arrived} ({where})"
            if arrived < count:
                books.lost += count - arrived
                books.lost_examples.append(line)
            else:
                books.duplicated += arrived - count
                books.duplicated_examples.append(line)
                places = sorted(
                    {
                        "direct" if tag == DIRECT else "order room"
                        for tag, words in shapes
                        if got[(tag, words)]
                    }
                )
                books.duplicated_where[" and ".join(places)] += arrived - count
    return books


def _groups(pieces: list[tuple[Key, ...]]) -> list[tuple[list[Key], int]]:
    """Pieces whose shapes overlap, merged: (their shapes, how many pieces)."""
    parent: dict[Key, Key] = {}

    def root(key: Key) -> Key:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for shapes in pieces:
        for shape in shapes[1:]:
            parent[root(shape)] = root(shapes[0])
    counts: Counter[Key] = Counter(root(shapes[0]) for shapes in pieces)
    members: dict[Key, list[Key]] = defaultdict(list)
    for key in parent:
        members[root(key)].append(key)
    return [(members[top], count) for top, count in counts.items()]


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def latency_rows(log: list[Sent]) -> list[tuple[str, int, int, float, float, float, float]]:
    """(what, commands, answered, p50, p90, p99, max) in seconds: all, and by platform and
    by command."""
    groups: dict[str, list[Sent]] = defaultdict(list)
    for sent in log:
        groups["all"].append(sent)
        groups[f"on {sent.platform}"].append(sent)
        groups[sent.text.split()[0]].append(sent)
    rows = []
    for name, sents in groups.items():
        times = [s.latency for s in sents if s.latency is not None]
        rows.append(
            (
                name,
                len(sents),
                len(times),
                percentile(times, 0.5),
                percentile(times, 0.9),
                percentile(times, 0.99),
                max(times) if times else math.nan,
            )
        )
    return rows


def table(header: tuple[str, ...], rows: list[tuple]) -> str:
    def cell(value) -> str:
        if isinstance(value, float):
            return "—" if math.isnan(value) else f"{value:,.3f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    lines = [header, *[tuple(cell(v) for v in row) for row in rows]]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        out.append(
            "  ".join(
                text.ljust(width) if i == 0 else text.rjust(width)
                for i, (text, width) in enumerate(zip(line, widths, strict=True))
            )
        )
        if n == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)
