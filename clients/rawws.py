"""A raw WebSocket client, piece by piece: the HTTP upgrade and client frames.

For load generation, where a client library's per-message cost would make the
load generator measure itself. Handshake and framing follow RFC 6455; only
what a game client needs is here (no extensions, no fragmentation on send).
Frames are built and read with ``gameserver.protocol.wsframes``, the codec the
server's fast transport uses too; this module adds the client's judgement of
the server's frames (``frame_bounds``).
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
from typing import Final
from urllib.parse import urlsplit

import attrs
import trio

from gameserver.protocol import SUBPROTOCOLS, CloseCode
from gameserver.protocol.wsframes import build_frame, frame_header

from ._client import MAX_SERVER_MESSAGE_BYTES

WS_GUID: Final = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_RESPONSE_HEAD = 16 * 1024  # an HTTP response head larger than this is not our server


class HandshakeFailed(Exception):
    """The opening handshake did not produce a WebSocket; ``kind`` is the swarm's error name."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


class FrameError(Exception):
    """The server broke WebSocket framing (close code 1002, or 1009 for size)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code


# -- the opening handshake -------------------------------------------------------


@attrs.frozen
class Target:
    host: str
    port: int
    path: str

    @classmethod
    def from_url(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme != "ws" or not parts.hostname:
            raise ValueError(f"lean mode needs a ws:// URL, got {url!r}")
        path = parts.path or "/"
        if parts.query:
            path += f"?{parts.query}"
        return cls(parts.hostname, parts.port or 80, path)


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` value a server must answer ``key`` with (RFC 6455 4.2.2)."""
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


def handshake_request(target: Target, key: str) -> bytes:
    host = target.host if ":" not in target.host else f"[{target.host}]"
    return (
        f"GET {target.path} HTTP/1.1\r\n"
        f"Host: {host}:{target.port}\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: {', '.join(SUBPROTOCOLS)}\r\n"
        "\r\n"
    ).encode()


def check_handshake_response(head: bytes, key: str) -> None:
    """Raise ``HandshakeFailed`` unless ``head`` (status line and headers) accepts ``key``."""
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split(" ", 2)
    if len(status) < 2 or not status[0].startswith("HTTP/1.") or not status[1].isdigit():
        raise HandshakeFailed("handshake_error", f"not an HTTP response: {lines[0]!r}")
    if status[1] != "101":
        raise HandshakeFailed(f"rejected_http_{status[1]}", lines[0])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    if headers.get("upgrade", "").lower() != "websocket":
        raise HandshakeFailed("handshake_error", "101 without Upgrade: websocket")
    if headers.get("sec-websocket-accept") != accept_key(key):
        raise HandshakeFailed("handshake_error", "wrong Sec-WebSocket-Accept")
    if headers.get("sec-websocket-protocol") not in SUBPROTOCOLS:
        spoken = " or ".join(SUBPROTOCOLS)
        raise HandshakeFailed("handshake_error", f"server selected neither {spoken}")


async def _send_all(sock: socket.socket, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[sock.send(view) :]
        except BlockingIOError:
            await trio.lowlevel.wait_writable(sock)


async def open_websocket(address: tuple[object, ...], family: int, target: Target) -> OpenSocket:
    """TCP connect plus the upgrade; returns the raw non-blocking socket and any early bytes."""
    tsock = trio.socket.socket(family, socket.SOCK_STREAM)
    try:
        await tsock.connect(address)
    except BaseException:
        tsock.close()
        raise
    sock = socket.socket(family, socket.SOCK_STREAM, fileno=tsock.detach())
    try:
        sock.setblocking(False)
        # Small frames go out at once: the input stream is latency-sensitive, like a game's.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        await _send_all(sock, handshake_request(target, key))
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            if len(buffer) > MAX_RESPONSE_HEAD:
                raise HandshakeFailed("handshake_error", "response head too large")
            await trio.lowlevel.wait_readable(sock)
            try:
                chunk = sock.recv(4096)
            except BlockingIOError:
                continue
            if not chunk:
                raise HandshakeFailed("handshake_error", "server closed during the handshake")
            buffer += chunk
        head, _, rest = buffer.partition(b"\r\n\r\n")
        check_handshake_response(head, key)
    except BaseException:
        sock.close()
        raise
    return OpenSocket(sock, rest)


@attrs.frozen
class OpenSocket:
    sock: socket.socket
    early: bytes  # bytes after the response head: the first frames


# -- frames ----------------------------------------------------------------------


def client_frame(opcode: int, payload: bytes, key: bytes) -> bytes:
    """One masked, unfragmented client frame."""
    return build_frame(payload, opcode, mask=key)


def frame_bounds(buf: bytes | bytearray, pos: int, end: int) -> tuple[int, int, int] | None:
    """``(first byte, payload start, payload stop)`` of the server frame at ``pos``.

    None while the frame is incomplete in ``buf[pos:end]``. Server frames are
    never masked and we negotiated no extension, so RSV bits must be clear.
    """
    head = frame_header(buf, pos, end)
    if head is None:
        return None
    b0, b1, _, start, stop = head
    if b1 & 0x80:
        raise FrameError(CloseCode.PROTOCOL_ERROR, "masked server frame")
    if b0 & 0x70:
        raise FrameError(CloseCode.PROTOCOL_ERROR, "RSV bits set without an extension")
    if stop - start > MAX_SERVER_MESSAGE_BYTES:
        raise FrameError(CloseCode.MESSAGE_TOO_BIG, f"frame of {stop - start} bytes")
    return None if stop > end else (b0, start, stop)
