"""A small HTTP/1.1 client over real trio sockets, framed by h11, for the HTTP side's tests."""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import attrs
import h11
import trio


@attrs.frozen
class HttpResult:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


class HttpClient:
    """One keep-alive connection; ``request`` may be called again after a response."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.connection = h11.Connection(h11.CLIENT)

    async def send_request(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes = b""
    ) -> None:
        if self.connection.our_state is h11.DONE:
            self.connection.start_next_cycle()
        if body:
            headers = [*headers, ("content-length", str(len(body)))]
        request = h11.Request(method=method, target=path, headers=[("host", "test"), *headers])
        data = self.connection.send(request) or b""
        if body:
            data += self.connection.send(h11.Data(data=body)) or b""
        data += self.connection.send(h11.EndOfMessage()) or b""
        await self.stream.send_all(data)

    async def send_request_body(self, method: str, path: str, body: bytes) -> None:
        await self.send_request(method, path, [("content-type", "application/json")], body)

    async def next_event(self) -> Any:
        while True:
            event = self.connection.next_event()
            if event is not h11.NEED_DATA:
                return event
            self.connection.receive_data(await self.stream.receive_some())

    async def response_head(self) -> h11.Response:
        event = await self.next_event()
        assert isinstance(event, h11.Response), event
        return event

    async def request(
        self, method: str, path: str, headers: list[tuple[str, str]] | None = None
    ) -> HttpResult:
        await self.send_request(method, path, headers or [])
        return await self.read_result()

    async def read_result(self) -> HttpResult:
        head = await self.response_head()
        body = bytearray()
        while True:
            event = await self.next_event()
            if isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            else:
                raise AssertionError(f"unexpected {event!r}")
        headers_out = {k.decode(): v.decode() for k, v in head.headers}
        return HttpResult(head.status_code, headers_out, bytes(body))

    async def events(self) -> AsyncIterator[tuple[str, str]]:
        """Server-Sent Events of the current response: (event name, data)."""
        buffer = b""
        while True:
            event = await self.next_event()
            if isinstance(event, h11.EndOfMessage):
                return
            assert isinstance(event, h11.Data), event
            buffer += event.data
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                name, data = "message", []
                for line in block.decode().split("\n"):
                    field, _, value = line.partition(": ")
                    if field == "event":
                        name = value
                    elif field == "data":
                        data.append(value)
                if data:
                    yield name, "\n".join(data)


@asynccontextmanager
async def http_client(
    port: int, *, tls: ssl.SSLContext | None = None, local_address: str | None = None
) -> AsyncIterator[HttpClient]:
    """``local_address`` (say ``127.0.0.2``) makes the connection come from another host."""
    stream: trio.abc.Stream = await trio.open_tcp_stream(
        "127.0.0.1", port, local_address=local_address
    )
    if tls is not None:
        stream = trio.SSLStream(stream, tls, server_hostname="127.0.0.1")
    async with stream:
        yield HttpClient(stream)


async def get(port: int, path: str, method: str = "GET", **options: Any) -> HttpResult:
    async with http_client(port, **options) as client:
        return await client.request(method, path)
