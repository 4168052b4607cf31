"""The floor: the game server's traffic over plain sockets, with no game and no WebSocket.

What it is for: the game server's CPU per player-tick only means something
next to what merely moving its bytes costs on the same machine at the same
moment. This program is that floor. Its server accepts N TCP connections and
then, tick-synchronously at the tick rate on absolute deadlines, does once per
tick what any server of this kind must: a non-blocking recv on every
connection (draining it), then one non-blocking send of a pre-built payload of
the measured snapshot size to each. Its client connects N sockets and, in one
loop like the lean swarm, sends one message of the input size per sender per
tick and drains every socket twice per tick.

    python -m benchmarks.floor server --connections N --size BYTES --stats-file F
    python -m benchmarks.floor client --port P --connections N --senders K --size BYTES

The server prints ``{"port": P}`` on stdout once listening and writes
``{"time_s", "tick", "skipped_ticks", "connections", "bytes_in", "bytes_out",
"messages_out"}`` to its stats file every second. Both run until SIGTERM (or
``--duration``). A send the kernel takes only in part keeps its rest and skips
the next payloads until flushed, like the game server's conflation.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys

import trio

RECV_SIZE = 256 * 1024
MAX_BEHIND_TICKS = 5


def _nonblocking(sock: socket.socket) -> socket.socket:
    sock.setblocking(False)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _drain(sock: socket.socket, buffer: bytearray) -> int:
    """Read what is there; -1 when the peer closed."""
    total = 0
    while True:
        try:
            n = sock.recv_into(buffer)
        except BlockingIOError:
            return total
        except OSError:
            return -1
        if not n:
            return -1
        total += n
        if n < len(buffer):
            return total


def _write_stats(path: str, document: dict[str, float]) -> None:
    temporary = f"{path}.tmp"
    with open(temporary, "w") as file:
        json.dump(document, file)
    os.replace(temporary, path)


async def serve(args: argparse.Namespace) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(4096)
    listener.setblocking(False)
    print(json.dumps({"port": listener.getsockname()[1]}), flush=True)
    connections: list[socket.socket] = []
    while len(connections) < args.connections:
        await trio.lowlevel.wait_readable(listener)
        try:
            sock, _ = listener.accept()
        except BlockingIOError:
            continue
        connections.append(_nonblocking(sock))
    payload = memoryview(os.urandom(args.size))  # incompressible, like real snapshots
    unsent: list[memoryview | None] = [None] * len(connections)
    buffer = bytearray(RECV_SIZE)
    counters = {"bytes_in": 0, "bytes_out": 0, "messages_out": 0, "skipped_ticks": 0}
    interval = 1.0 / args.tick_rate
    start = trio.current_time()
    end = start + args.duration if args.duration else float("inf")
    n = 0
    next_stats = start
    while trio.current_time() < end:
        deadline = start + n * interval
        now = trio.current_time()
        if now < deadline:
            await trio.sleep_until(deadline)
        else:
            behind = int((now - deadline) / interval)
            if behind > MAX_BEHIND_TICKS:
                n += behind
                counters["skipped_ticks"] += behind
            await trio.lowlevel.checkpoint()
        gone = []
        for i, sock in enumerate(connections):
            got = _drain(sock, buffer)
            if got < 0:
                gone.append(i)
            else:
                counters["bytes_in"] += got
        for i in reversed(gone):  # the peer left: forget the connection
            connections.pop(i).close()
            unsent.pop(i)
        for i, sock in enumerate(connections):
            rest = unsent[i]
            data = rest if rest is not None else payload
            try:
                sent = sock.send(data)
            except BlockingIOError:
                sent = 0
            except OSError:
                continue
            counters["bytes_out"] += sent
            if sent == len(data):
                unsent[i] = None
                counters["messages_out"] += 1
            else:
                unsent[i] = data[sent:]
        n += 1
        if trio.current_time() >= next_stats:
            next_stats += 1.0
            _write_stats(
                args.stats_file,
                {"time_s": trio.current_time(), "tick": n, "connections": len(connections)}
                | counters,
            )


async def client(args: argparse.Namespace) -> None:
    sockets = []
    for _ in range(args.connections):
        sock = socket.create_connection(("127.0.0.1", args.port))
        sockets.append(_nonblocking(sock))
    print(json.dumps({"connected": len(sockets)}), flush=True)
    senders = sockets[: args.senders]
    message = os.urandom(args.size)
    buffer = bytearray(RECV_SIZE)
    half = 0.5 / args.tick_rate
    start = next_at = trio.current_time()
    end = start + args.duration if args.duration else float("inf")
    phase = 0
    while next_at < end:
        if phase == 0:
            for sock in senders:
                try:  # noqa: SIM105  (cheaper than a context manager in the hot loop)
                    sock.send(message)
                except OSError:
                    pass
        for sock in sockets:
            _drain(sock, buffer)
        phase ^= 1
        next_at = max(next_at + half, trio.current_time() - MAX_BEHIND_TICKS * 2 * half)
        await trio.sleep_until(next_at)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor", description=__doc__)
    sub = parser.add_subparsers(dest="role", required=True)
    s = sub.add_parser("server", help="accept N connections, then send and receive per tick")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--connections", type=int, required=True)
    s.add_argument("--size", type=int, required=True, help="bytes sent to each connection per tick")
    s.add_argument("--tick-rate", type=int, default=30)
    s.add_argument("--stats-file", required=True)
    s.add_argument("--duration", type=float, default=0.0, help="seconds after all joined (0: ∞)")
    c = sub.add_parser("client", help="connect N sockets; K of them send each tick")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--connections", type=int, required=True)
    c.add_argument("--senders", type=int, required=True)
    c.add_argument("--size", type=int, required=True, help="bytes each sender sends per tick")
    c.add_argument("--tick-rate", type=int, default=30)
    c.add_argument("--duration", type=float, default=0.0, help="seconds (0: until SIGTERM)")
    args = parser.parse_args(argv)
    try:
        trio.run(serve if args.role == "server" else client, args)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
