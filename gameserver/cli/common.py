"""What several subcommands share: the bundled browser client, the collector, signals."""

from __future__ import annotations

import argparse
import logging
import signal
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import trio

from gameserver.config import Config

if TYPE_CHECKING:
    from gameserver.server import GameServer

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

# The defaults serve and config show where they are not Config's.
SERVE_SHOWN_DEFAULTS = {"web_root": "the bundled browser client; '' serves none"}


def bundled_web_root() -> str:
    """The browser client shipped with the package (``gameserver/clients/web``).

    Found without importing ``gameserver.clients``: the server only serves its files.
    """
    return str(Path(__file__).resolve().parents[1] / "clients" / "web")


def web_root(option: str | None) -> str:
    """``--web-root``'s value, the bundled browser client when not given."""
    return bundled_web_root() if option is None else option


def serve_base() -> Config:
    """Serve's defaults: Config's, but with the bundled browser client at /."""
    return Config.of(web_root=bundled_web_root())


def tune_collector(config: Config) -> None:
    """For a server process: no full collection every few seconds (``Config`` explains)."""
    import gc

    if config.process.gc_full_collection_every:
        gc.freeze()  # what start-up made lives for the whole run: never scan it again
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, config.process.gc_full_collection_every)


async def serve_until_signal(server: GameServer, banner: str = "") -> None:
    """Run ``server`` until SIGINT or SIGTERM, then shut down gracefully (a second: at once)."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            await nursery.start(server.run)
            if banner:
                print(banner.format(http_url=server.http_url, url=server.url), flush=True)
            log = logging.getLogger("gameserver")
            async for signum in signals:
                log.info("received %s", signal.Signals(signum).name)
                break

            async def force_on_second_signal() -> None:
                async for signum in signals:
                    log.warning("received %s again: stopping now", signal.Signals(signum).name)
                    nursery.cancel_scope.cancel()

            nursery.start_soon(force_on_second_signal)
            await server.shutdown()
            nursery.cancel_scope.cancel()
