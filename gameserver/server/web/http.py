"""Plain HTTP/1.1 on the game's port, with h11: requests in, responses out.

Theory of operation: one connection is one loop of request/response cycles
(keep-alive). A cycle reads events from h11 until the request ends, asks the
``Handler`` for a response and writes it; h11 decides the framing
(Content-Length, chunked for streams, close for HTTP/1.0). GET and HEAD are
served everywhere; POST only where ``post_paths`` allows it, with a body of
at most ``MAX_REQUEST_BODY_BYTES``. Anything else is answered with 405 or 413
and the connection closed. Two clocks bound the reading: waiting for the
first byte of the next request is bounded by ``http_idle_timeout_s``; from
that byte on, the whole request (head and body) must arrive within
``http_request_timeout_s``, one deadline, not one per read, so a peer that
trickles a byte a second cannot hold its connection (408 and close). The
first request's deadline counts from the connection's start. Each write is
bounded by ``send_timeout_s``. An ``EventStream`` response (Server-Sent
Events) keeps the cycle open, writing each chunk as its iterator yields it,
until the iterator ends or the peer stops reading; its ``on_close`` runs
once when the response ends, however it ends.
"""

from __future__ import annotations

import http
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from urllib.parse import parse_qs, urlsplit

import attrs
import h11
import trio

from gameserver.server.metrics import Metrics
from gameserver.server.network.handover import HandoverStream

log = logging.getLogger(__name__)

MAX_REQUEST_BODY_BYTES = 1024  # a matchmaking request is a few dozen bytes
BASE_HEADERS = (("server", "gameserver"), ("x-content-type-options", "nosniff"))


@attrs.frozen
class Request:
    method: str
    path: str  # without the query
    query: dict[str, list[str]]
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    remote: str = ""  # the peer's address
    admin: bool = False  # arrived on the admin listener (admin_host:admin_port)
    secure: bool = False  # arrived over TLS


@attrs.frozen
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


@attrs.frozen
class EventStream:
    """A streamed response: every chunk ``chunks`` yields is written as it comes."""

    chunks: AsyncGenerator[bytes, None]
    content_type: str = "text/event-stream"
    headers: tuple[tuple[str, str], ...] = ()
    # Called once when the response ends (written, refused, or the peer gone), even if
    # ``chunks`` was never iterated: what the stream holds (a slot) is given back here.
    on_close: Callable[[], None] | None = None


Handler = Callable[[Request], Awaitable[Response | EventStream]]


def text_response(status: int, text: str) -> Response:
    return Response(status, f"{text}\n".encode())


class _Closed(Exception):
    """The peer went away, went quiet, or stopped reading: end the connection."""


async def serve_http(
    stream: HandoverStream,
    connection: h11.Connection,
    first: h11.Request,
    handler: Handler,
    *,
    post_paths: frozenset[str] = frozenset(),
    metrics: Metrics,
    idle_timeout_s: float,
    request_timeout_s: float,
    send_timeout_s: float,
    keep_alive: bool = True,
    admin: bool = False,
) -> None:
    """Serve requests on one connection until it closes; h11 has already parsed ``first``.

    With ``keep_alive`` False only ``first`` is answered (``Connection: close``).
    """
    event: h11.Request | None = first
    deadline: float | None = stream.opened_at + request_timeout_s
    timing = _Timing(idle_timeout_s, request_timeout_s)
    try:
        while True:
            request = await _read_request(
                stream, connection, event, deadline, timing, metrics, post_paths
            )
            event, deadline = None, None
            if request is None:
                return
            request = attrs.evolve(request, admin=admin, secure=stream.tls is not None)
            try:
                response = await handler(request)
            except Exception:
                metrics.internal_errors += 1
                log.exception(
                    "%s: error answering %s %s", stream.remote, request.method, request.path
                )
                response = text_response(500, "internal server error")
            close = () if keep_alive else (("connection", "close"),)
            await _write(stream, connection, request, response, send_timeout_s, metrics, close)
            if connection.our_state is not h11.DONE or connection.their_state is not h11.DONE:
                return
            connection.start_next_cycle()
    except _Closed:
        return


@attrs.frozen
class _Timing:
    idle_timeout_s: float
    request_timeout_s: float


class _RequestTimeout(Exception):
    """The request did not arrive whole within ``request_timeout_s``."""


async def _receive(stream: HandoverStream, connection: h11.Connection, deadline: float) -> None:
    with trio.move_on_at(deadline):
        connection.receive_data(await stream.receive_some(16384))
        return
    raise _RequestTimeout


async def _read_request(
    stream: HandoverStream,
    connection: h11.Connection,
    parsed: h11.Request | None,
    deadline: float | None,
    timing: _Timing,
    metrics: Metrics,
    post_paths: frozenset[str],
) -> Request | None:
    """The next request, read whole by one deadline (None: it starts with the first byte)."""
    if deadline is None and connection.trailing_data[0]:
        deadline = trio.current_time() + timing.request_timeout_s  # pipelined: already begun
    try:
        return await _read_request_by(
            stream, connection, parsed, deadline, timing, metrics, post_paths
        )
    except _RequestTimeout:
        metrics.http_request_timeouts += 1
        metrics.http_responses[408] += 1
        reason = f"request not complete within {timing.request_timeout_s:g} s"
        if connection.our_state is h11.IDLE:  # no head yet, so h11 will not answer it
            await _send_raw_refusal(stream, 408, reason)
        else:
            await refuse(stream, connection, 408, reason)
        return None


async def _read_request_by(
    stream: HandoverStream,
    connection: h11.Connection,
    parsed: h11.Request | None,
    deadline: float | None,
    timing: _Timing,
    metrics: Metrics,
    post_paths: frozenset[str],
) -> Request | None:
    request: Request | None = None
    body = bytearray()
    while True:
        try:
            event = parsed or connection.next_event()
            parsed = None
        except h11.RemoteProtocolError as error:
            metrics.http_bad_requests += 1
            metrics.http_responses[error.error_status_hint] += 1
            await refuse(stream, connection, error.error_status_hint, "malformed HTTP request")
            return None
        if event is h11.NEED_DATA:
            if deadline is None:  # between requests: idle until the next one's first byte
                with trio.move_on_after(timing.idle_timeout_s):
                    connection.receive_data(await stream.receive_some(16384))
                    deadline = trio.current_time() + timing.request_timeout_s
                if deadline is None:
                    raise _Closed
            else:
                await _receive(stream, connection, deadline)
        elif isinstance(event, h11.Request):
            url = urlsplit(event.target.decode("latin-1"))
            request = Request(
                method=event.method.decode("ascii", "replace"),
                path=url.path,
                query=parse_qs(url.query),
                headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers),
                remote=stream.host,
            )
            allowed = request.method in ("GET", "HEAD") or (
                request.method == "POST" and request.path in post_paths
            )
            if not allowed:
                metrics.http_responses[405] += 1
                postable = request.path in post_paths
                reason = "only GET, HEAD and POST" if postable else "only GET and HEAD"
                await refuse(stream, connection, 405, reason, allow=True, allow_post=postable)
                return None
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > MAX_REQUEST_BODY_BYTES:
                metrics.http_responses[413] += 1
                limit = MAX_REQUEST_BODY_BYTES
                await refuse(stream, connection, 413, f"request body over {limit} bytes")
                return None
        elif isinstance(event, h11.EndOfMessage):
            if request is not None and body:
                request = attrs.evolve(request, body=bytes(body))
            return request
        else:  # ConnectionClosed or PAUSED (a request we will not answer further)
            return None


async def refuse(
    stream: HandoverStream,
    connection: h11.Connection,
    status: int,
    reason: str,
    *,
    allow: bool = False,
    allow_post: bool = False,
) -> None:
    """Answer with ``status`` and close; also after h11 found the request malformed."""
    if connection.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        return  # a response is already under way: closing is all that is left
    headers = [
        *BASE_HEADERS,
        ("content-type", "text/plain; charset=utf-8"),
        ("connection", "close"),
    ]
    if allow:
        headers.append(("allow", "GET, HEAD, POST" if allow_post else "GET, HEAD"))
    body = f"{reason}\n".encode()
    headers.append(("content-length", str(len(body))))
    try:
        data = connection.send(
            h11.Response(status_code=status, headers=headers, reason=_phrase(status))
        )
        data = (data or b"") + (connection.send(h11.Data(data=body)) or b"")
    except h11.LocalProtocolError:
        return
    with trio.move_on_after(1.0):
        await stream.send_all(data)


async def _send_raw_refusal(stream: HandoverStream, status: int, reason: str) -> None:
    """A refusal before any request head arrived (which h11 cannot frame); then close."""
    body = f"{reason}\n".encode()
    head = [
        f"HTTP/1.1 {status} {_phrase(status).decode()}",
        *(f"{name}: {value}" for name, value in BASE_HEADERS),
        "content-type: text/plain; charset=utf-8",
        "connection: close",
        f"content-length: {len(body)}",
    ]
    with trio.move_on_after(1.0):
        await stream.send_all("\r\n".join(head).encode() + b"\r\n\r\n" + body)


def _phrase(status: int) -> bytes:
    try:
        return http.HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


async def _write(
    stream: HandoverStream,
    connection: h11.Connection,
    request: Request,
    response: Response | EventStream,
    send_timeout_s: float,
    metrics: Metrics,
    extra_headers: tuple[tuple[str, str], ...] = (),
) -> None:
    if isinstance(response, Response):
        if extra_headers:
            response = attrs.evolve(response, headers=(*response.headers, *extra_headers))
        await _write_response(stream, connection, request.method, response, send_timeout_s, metrics)
        return
    try:
        await _write_stream(stream, connection, request, response, send_timeout_s, metrics)
    finally:
        if response.on_close is not None:
            response.on_close()


async def _write_stream(
    stream: HandoverStream,
    connection: h11.Connection,
    request: Request,
    response: EventStream,
    send_timeout_s: float,
    metrics: Metrics,
) -> None:
    metrics.http_responses[200] += 1
    head = h11.Response(
        status_code=200,
        reason=b"OK",
        headers=[
            *BASE_HEADERS,
            ("content-type", response.content_type),
            ("cache-control", "no-store"),
            *response.headers,
        ],
    )
    await _send(stream, connection.send(head), send_timeout_s)
    async with aclosing(response.chunks) as chunks:
        if request.method != "HEAD":
            async for chunk in chunks:
                await _send(stream, connection.send(h11.Data(data=chunk)), send_timeout_s)
    await _send(stream, connection.send(h11.EndOfMessage()), send_timeout_s)


async def _write_response(
    stream: HandoverStream,
    connection: h11.Connection,
    method: str,
    response: Response,
    send_timeout_s: float,
    metrics: Metrics,
) -> None:
    metrics.http_responses[response.status] += 1
    head = h11.Response(
        status_code=response.status,
        reason=_phrase(response.status),
        headers=[
            *BASE_HEADERS,
            ("content-type", response.content_type),
            ("content-length", str(len(response.body))),
            *response.headers,
        ],
    )
    data = connection.send(head) or b""
    if method != "HEAD" and response.body:
        data += connection.send(h11.Data(data=response.body)) or b""
    data += connection.send(h11.EndOfMessage()) or b""
    await _send(stream, data, send_timeout_s)


async def _send(stream: HandoverStream, data: bytes | None, timeout_s: float) -> None:
    if not data:
        return
    with trio.move_on_after(timeout_s):
        await stream.send_all(data)
        return
    raise _Closed
