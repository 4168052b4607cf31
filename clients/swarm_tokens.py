"""Identity tokens for swarm bots: handed over in a file, or minted with the server's key.

A load test of a production setup signs its bots in as the game's players would, each
with an identity of its own (seats, rate limits and resumes are per identity). Bot
number ``i`` of the whole run (players first, then spectators, numbered across worker
processes) carries:

- with a token file: its line ``i`` (one token per line; blank lines and lines starting
  with ``#`` are skipped), as an identity provider would have issued them. The file must
  hold a token for every bot; a spectator's token must give the spectator role;
- with a signing key: an HS256 identity token minted for it (``gameserver.auth``, as
  ``gameserver token`` does), subject ``bot-i``, named as the bot, with the role claim
  ``player`` or ``spectator``, and the issuer and audience the server checks, if any.

The token rides as ``?token=`` on the WebSocket URL and as ``Authorization: Bearer``
on match requests; it is a credential, so it never appears on a command line: worker
processes read the same file, or get the key through their environment.
"""

from __future__ import annotations

import time
from pathlib import Path

import attrs

from gameserver.auth import issue_identity_token
from gameserver.protocol import Role

TOKEN_FILE_MAX_BYTES = 64 * 1024 * 1024  # a million tokens and more; a mistaken path is refused
SECRET_ENV = "GAMESERVER_SECRET"  # the key's environment variable, as for the server


def read_token_file(path: str) -> tuple[str, ...]:
    """The tokens in ``path``, one per line; ``ValueError`` saying why it is unusable."""
    file = Path(path)
    try:
        if file.stat().st_size > TOKEN_FILE_MAX_BYTES:
            raise ValueError(f"token file {path} is over {TOKEN_FILE_MAX_BYTES} bytes")
        text = file.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read token file {path}: {error}") from None
    tokens = tuple(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )
    if not tokens:
        raise ValueError(f"token file {path} holds no token")
    return tokens


@attrs.frozen
class BotTokens:
    """Where each bot's identity token comes from (neither: development mode, none)."""

    tokens: tuple[str, ...] | None = attrs.field(default=None, repr=False)
    secret: bytes | None = attrs.field(default=None, repr=False)
    issuer: str | None = None
    audience: str | None = None
    ttl_s: float = 3600.0

    def __attrs_post_init__(self) -> None:
        if self.tokens is not None and self.secret is not None:
            raise ValueError("give a token file or a signing key, not both")

    def check_count(self, bots: int) -> None:
        """A token file must hold one token for each of the run's ``bots`` connections."""
        if self.tokens is not None and len(self.tokens) < bots:
            raise ValueError(
                f"the token file holds {len(self.tokens)} tokens for {bots} bots and "
                "spectators: one each is needed"
            )

    def token_for(self, index: int, name: str, role: Role) -> str | None:
        """The identity token of bot number ``index`` (named ``name``), or None."""
        if self.tokens is not None:
            return self.tokens[index]
        if self.secret is None:
            return None
        return issue_identity_token(
            self.secret,
            subject=f"bot-{index}",
            name=name,
            role="player" if role is Role.PLAYER else "spectator",
            ttl_s=self.ttl_s,
            now_s=time.time(),
            issuer=self.issuer,
            audience=self.audience,
        )
