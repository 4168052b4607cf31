"""A swarm run's options and clock, shared by the normal swarm and the lean one."""

from __future__ import annotations

import time

import attrs
import trio

from gameserver.protocol import Role

from .swarm_tokens import BotTokens, read_token_file

LIVE_SAMPLES = 8  # per client, for live percentiles


@attrs.frozen
class SwarmOptions:
    url: str
    bots: int
    duration_s: float
    spectators: int = 0
    procs: int = 1
    # None: each bot is the game's own (gameserver.rules.Bot), or ``bot``'s class; a
    # behaviour name: one of the load patterns the game ships (``botdriver.behaviour_bot``).
    behaviour: str | None = None
    bot: str | None = None  # package.module:Class of a gameserver.rules.Bot
    ramp_s: float = 0.0
    seed: int = 0
    first_index: int = 0  # bot numbering offset (worker processes)
    ping_interval_s: float = 1.0
    connect_timeout_s: float = 10.0
    lean: bool = (
        False  # all bots of a process in one loop over raw sockets (gameserver.clients.lean)
    )
    decode_sample: float = 0.01  # lean mode: fraction of bots that decode snapshots (>= 1 bot)
    match_mode: str | None = None  # each bot asks url's matchmaking (http://) for a seat
    # For a server with authentication on, each bot carries an identity token of its own
    # (swarm_tokens.py): line N of token_file, or one minted with the HS256 key
    # token_secret (subject "bot-N"), with the issuer and audience the server checks.
    token_secret: str | None = attrs.field(default=None, repr=False)
    token_file: str | None = None
    token_issuer: str | None = None
    token_audience: str | None = None
    # --match: how long a bot whose node died may take to be placed again (0: never).
    replace_timeout_s: float = 30.0

    def __attrs_post_init__(self) -> None:
        if self.bots < 0 or self.spectators < 0 or self.bots + self.spectators == 0:
            raise ValueError("need at least one bot or spectator")
        if self.duration_s <= 0:
            raise ValueError("duration must be > 0")
        if self.procs < 1:
            raise ValueError("procs must be >= 1")
        if self.connect_timeout_s <= 0:
            raise ValueError("connect timeout must be > 0")
        if self.behaviour is not None and not self.behaviour.isidentifier():
            raise ValueError(f"a behaviour is a name, not {self.behaviour!r}")
        if self.behaviour is not None and self.bot is not None:
            raise ValueError("give --bot or --behaviour, not both")
        if self.replace_timeout_s < 0:
            raise ValueError("replace timeout must be >= 0")
        if not 0.0 <= self.decode_sample <= 1.0:
            raise ValueError("decode sample must be in [0, 1]")
        if self.match_mode is not None and (self.lean or self.spectators):
            raise ValueError("--match places player bots only, without --lean")


def bot_name(index: int, role: Role) -> str:
    """The name bot number ``index`` joins with: ``bot-N`` for a player, else ``spectator-N``."""
    return f"{'bot' if role is Role.PLAYER else 'spectator'}-{index}"


def bot_tokens(options: SwarmOptions) -> BotTokens:
    """Where the run's identity tokens come from; ``ValueError`` if they cannot serve it."""
    tokens = BotTokens(
        tokens=None if options.token_file is None else read_token_file(options.token_file),
        secret=None if options.token_secret is None else options.token_secret.encode(),
        issuer=options.token_issuer,
        audience=options.token_audience,
        ttl_s=options.duration_s + 3600,  # outlives the run, whatever the ramp
    )
    tokens.check_count(options.first_index + options.bots + options.spectators)
    return tokens


class RunClock:
    """The span of a swarm run: start, deadline (``stop`` pulls it in), end, and CPU used."""

    def __init__(self) -> None:
        self.started = False
        self.started_at = 0.0
        self.finished_at: float | None = None
        self.deadline = float("inf")
        self._cpu_started = 0.0
        self._cpu_s: float | None = None

    def start(self, duration_s: float) -> None:
        self.started, self.started_at = True, trio.current_time()
        self._cpu_started = time.process_time()
        self.deadline = min(self.deadline, self.started_at + duration_s)

    def finish(self) -> None:
        self.finished_at = trio.current_time()
        self._cpu_s = time.process_time() - self._cpu_started

    def cpu_s(self) -> float:
        """Process CPU time of the run so far (all of it once finished)."""
        if self._cpu_s is not None:
            return self._cpu_s
        return time.process_time() - self._cpu_started if self._cpu_started else 0.0

    def elapsed_s(self) -> float:
        end = self.finished_at if self.finished_at is not None else trio.current_time()
        return end - self.started_at if self.started else 0.0

    def stop(self) -> None:
        """End the run now (as if the duration were over): bots leave normally."""
        self.deadline = min(self.deadline, trio.current_time())
