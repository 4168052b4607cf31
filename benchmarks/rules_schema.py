"""What the rules schema costs per entity, next to a hand-written wire tuple.

    python -m benchmarks.rules_schema [--entities N] [--repeat R]

Declares an arena-like player (kind + 7 fields: x, y, aim, hp, score, flags, team) and
prints one JSON object of microseconds per entity, best of R runs over a world of N
entities: ``to_wire`` (the compiled encoder), ``wire_state`` (a whole world through
``GameSchema.wire_state``), ``hand_written`` (the same tuple built inline, as
``ArenaRules.wire_state`` in ``gameserver/games/arena/_rules.py`` does), ``from_wire``
(strict decoding into the declared class) and ``client_from_wire`` (into the class
``GameSchema.from_description`` builds).
"""

from __future__ import annotations

import argparse
import enum
import json
import timeit

from gameserver import rules


class _Flags(enum.IntFlag):
    ALIVE = 1
    COOLDOWN = 2


class _Team(enum.IntEnum):
    RED = 0
    BLUE = 1


@rules.entity
class Player:
    x: float = rules.fixed(16, 0, 1000, interpolate=True, position="x")
    y: float = rules.fixed(16, 0, 1000, interpolate=True, position="y")
    aim: int = rules.binary_angle(256, 65536, interpolate=True)
    hp: int = rules.integer(0, 100)
    score: int = rules.integer(0, 2**31 - 1)
    flags: _Flags = rules.flags(_Flags)
    team: _Team = rules.enum(_Team)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    n = args.entities
    game = rules.GameSchema(entities=[Player])
    client = rules.GameSchema.from_description(game.describe())
    schema, client_schema = game.entity(Player), client.entities[0]
    world = {
        i: Player(
            x=(i * 7.3125) % 1000,
            y=(i * 3.0625) % 1000,
            aim=i * 131 % 65536,
            hp=i % 101,
            score=i,
            flags=_Flags(i % 4),
            team=_Team(i % 2),
        )
        for i in range(1, n + 1)
    }
    players = list(world.values())
    wires = [schema.to_wire(p) for p in players]
    to_wire, from_wire, client_from_wire = (
        schema.to_wire,
        schema.from_wire,
        client_schema.from_wire,
    )

    def hand_written() -> None:
        for p in players:
            (0, round(p.x * 16.0), round(p.y * 16.0), p.aim >> 8, p.hp, p.score,
             int(p.flags), int(p.team))  # fmt: skip

    cases = {
        "to_wire": lambda: [to_wire(p) for p in players],
        "wire_state": lambda: game.wire_state(world),
        "hand_written": hand_written,
        "from_wire": lambda: [from_wire(w) for w in wires],
        "client_from_wire": lambda: [client_from_wire(w) for w in wires],
    }
    runs = max(1, 20000 // n)
    result = {
        name: round(min(timeit.repeat(case, number=runs, repeat=args.repeat)) / runs / n * 1e6, 3)
        for name, case in cases.items()
    }
    print(json.dumps({"entities": n, "fields": len(schema.field_names), "us_per_entity": result}))


if __name__ == "__main__":
    main()
