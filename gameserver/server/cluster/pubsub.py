"""A subscription that outlives the directory's outages: re-subscribes until cancelled."""

from __future__ import annotations

import logging
from collections.abc import Callable

import trio

from gameserver.server.cluster.directory import Directory, DirectoryError

log = logging.getLogger(__name__)

RESUBSCRIBE_DELAY_S = 1.0


async def listen(
    directory: Directory,
    channel: str,
    deliver: Callable[[bytes], None],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Call ``deliver`` with every payload published on ``channel``, until cancelled.

    Started once subscribed, or at once if the directory is down (the server serves
    anyway and keeps trying); after a lost subscription it subscribes again.
    """
    started = False
    while True:
        try:
            async with directory.subscribe(channel) as messages:
                if not started:
                    started = True
                    task_status.started()
                async for payload in messages:
                    deliver(payload)
        except DirectoryError as error:
            log.warning("subscription to %s lost, retrying: %s", channel, error)
        if not started:
            started = True
            task_status.started()
        await trio.sleep(RESUBSCRIBE_DELAY_S)
