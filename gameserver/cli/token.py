"""``gameserver token``: print a development token (a JWT signed with the shared secret)."""

from __future__ import annotations

import argparse
import os
import sys

from gameserver.cli.common import SubParsers


def add(sub: SubParsers) -> None:
    p = sub.add_parser(
        "token",
        help="print a development token (a JWT signed with the shared secret)",
        description="Prints one token signed with the shared secret (--secret, else the "
        "GAMESERVER_SECRET environment variable; at least 32 bytes), HS256. Without --room: "
        "an identity token, as the game's identity provider would issue (use it as "
        "?token= and as Authorization: Bearer for POST /api/match). With --room: a join "
        "token for that room, good once. Exit status 2 without a secret.",
    )
    p.add_argument("--subject", required=True, help="account id the token is for (sub)")
    p.add_argument("--name", required=True, help="display name (1..32 printable chars)")
    p.add_argument(
        "--role",
        choices=("player", "spectator"),
        default="player",
        help="role the token allows (default %(default)s)",
    )
    p.add_argument("--room", default=None, help="make a join token for this room, good once")
    p.add_argument(
        "--ttl", type=float, default=3600.0, help="seconds until it expires (default %(default)s)"
    )
    p.add_argument("--issuer", default=None, help="iss of an identity token (the server's)")
    p.add_argument("--audience", default=None, help="aud of an identity token (the server's)")
    p.add_argument(
        "--secret",
        "--jwt-secret",
        default=None,
        help="signing secret (default: $GAMESERVER_SECRET; other local users can see a secret "
        "given here)",
    )


def run(args: argparse.Namespace) -> int:
    import time

    from gameserver.auth import issue_identity_token
    from gameserver.protocol import Role
    from gameserver.tokens import issue_token, load_secret

    try:
        secret = load_secret(args.secret, os.environ)
        if secret is None:
            raise ValueError("no secret: pass --secret or set GAMESERVER_SECRET")
        if args.room is None:
            token = issue_identity_token(
                secret,
                subject=args.subject,
                name=args.name,
                role=args.role,
                ttl_s=args.ttl,
                now_s=time.time(),
                issuer=args.issuer,
                audience=args.audience,
            )
        else:
            token = issue_token(
                secret,
                subject=args.subject,
                name=args.name,
                role=Role.SPECTATOR if args.role == "spectator" else Role.PLAYER,
                room=args.room,
                ttl_s=args.ttl,
                now_s=time.time(),
            )
    except ValueError as exc:
        print(f"gameserver token: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0
