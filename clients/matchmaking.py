"""Asking a server's matchmaking for a seat: ``POST /api/match`` (docs/operations.md).

The answer names the room and the URL to connect to (on whichever node owns the room),
with a seat token when authentication is on. Connect to it within ``expires_in_s``,
with the same identity token: ``connect(match.url, token=identity_token)``.
"""

from __future__ import annotations

import json
import ssl
from typing import Any
from urllib.parse import urlsplit

import attrs
import h11
import trio

MAX_ANSWER_BYTES = 16384


class MatchFailed(Exception):
    """Matchmaking answered with an error (``status`` is its HTTP status)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"matchmaking answered {status}: {reason}")
        self.status = status
        self.reason = reason


@attrs.frozen
class Match:
    room: str
    node: str
    url: str  # the WebSocket URL to connect to
    seat: str
    expires_in_s: float
    code: str | None = None  # a private room's code
    token: str | None = None  # the seat token (in url as ?seat=), when authentication is on
    http_url: str = ""  # the HTTP side of the room's node (its matchmaking, too)


async def find_match(
    server_url: str,
    *,
    mode: str | None = None,
    code: str | None = None,
    private: bool = False,
    name: str = "player",
    timeout_s: float = 10.0,
    ssl_context: ssl.SSLContext | None = None,
    token: str | None = None,
    unreachable: str | None = None,
) -> Match:
    """A seat from the matchmaking of the server at ``server_url`` (http:// or https://).

    ``token``: the player's identity token, sent as ``Authorization: Bearer`` (required
    when the server has authentication on; the seat is then bound to it).
    ``unreachable``: the id of a node this client could not reach (its previous
    ``Match.node``): the server checks it and, if it is down, stops offering it at once.
    """
    request: dict[str, Any] = {"name": name}
    if mode is not None:
        request["mode"] = mode
    if code is not None:
        request["code"] = code
    if private:
        request["private"] = True
    if unreachable is not None:
        request["unreachable"] = unreachable
    with trio.fail_after(timeout_s):
        status, answer = await _post_json(server_url, "/api/match", request, ssl_context, token)
    if status != 200:
        raise MatchFailed(status, str(answer.get("error", answer)))
    return Match(
        room=str(answer["room"]),
        node=str(answer["node"]),
        url=str(answer["url"]),
        seat=str(answer["seat"]),
        expires_in_s=float(answer["expires_in_s"]),
        code=answer.get("code"),
        token=answer.get("token"),
        http_url=str(answer.get("http_url") or ""),
    )


async def _post_json(
    server_url: str,
    path: str,
    document: Any,
    ssl_context: ssl.SSLContext | None,
    token: str | None = None,
) -> tuple[int, dict[str, Any]]:
    url = urlsplit(server_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError(f"matchmaking needs an http:// or https:// URL, not {server_url!r}")
    port = url.port or (443 if url.scheme == "https" else 80)
    stream: trio.abc.Stream = await trio.open_tcp_stream(url.hostname, port)
    if url.scheme == "https":
        context = ssl_context or ssl.create_default_context()
        stream = trio.SSLStream(stream, context, server_hostname=url.hostname)
    body = json.dumps(document).encode()
    headers = [
        ("host", url.netloc),
        ("content-type", "application/json"),
        ("content-length", str(len(body))),
        ("connection", "close"),
    ]
    if token is not None:
        headers.append(("authorization", f"Bearer {token}"))
    connection = h11.Connection(h11.CLIENT)
    async with stream:
        data = connection.send(h11.Request(method="POST", target=path, headers=headers))
        data = (data or b"") + (connection.send(h11.Data(data=body)) or b"")
        data += connection.send(h11.EndOfMessage()) or b""
        await stream.send_all(data)
        status, received = 0, bytearray()
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                connection.receive_data(bytes(await stream.receive_some()))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                received += event.data
                if len(received) > MAX_ANSWER_BYTES:
                    raise MatchFailed(status, "answer too large")
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                break
    try:
        answer = json.loads(received)
    except ValueError:
        raise MatchFailed(status, "the answer is not JSON") from None
    return status, answer if isinstance(answer, dict) else {"error": answer}


async def reachable(url: str, timeout_s: float) -> bool:
    """Whether a TCP connection to ``url``'s host and port opens within ``timeout_s``.

    What a client checks before telling matchmaking that its node is unreachable.
    """
    parts = urlsplit(url)
    secure = parts.scheme in ("https", "wss")
    try:
        port = parts.port or (443 if secure else 80)
    except ValueError:
        return False
    if not parts.hostname:
        return False
    with trio.move_on_after(timeout_s):
        try:
            stream = await trio.open_tcp_stream(parts.hostname, port)
        except OSError:
            return False
        await stream.aclose()
        return True
    return False
