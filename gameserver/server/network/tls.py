"""TLS as bytes in, bytes out: one ``ssl.SSLObject`` per connection over memory buffers.

Theory of operation: with the TLS state in memory BIOs rather than inside a
stream object, the same connection can first be driven by awaits (the
handshake and the HTTP upgrade, through ``HandoverStream``) and then, once
handed over, by the room's tick-synchronous reads and writes: raw socket
bytes go in with ``decrypt``, frames come out with ``encrypt``, and nothing
ever blocks on TLS itself.
"""

from __future__ import annotations

import ssl

import trio

READ_SIZE = 65536


class TlsSession:
    def __init__(self, context: ssl.SSLContext) -> None:
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self.closed = False  # the peer sent close_notify

    async def handshake(self, stream: trio.SocketStream) -> None:
        """Complete the server side of the TLS handshake over ``stream``."""
        while True:
            try:
                self._tls.do_handshake()
            except ssl.SSLWantReadError:
                await self._flush(stream)
                data = await stream.receive_some(READ_SIZE)
                if not data:
                    raise trio.BrokenResourceError("peer left during the TLS handshake") from None
                self._incoming.write(data)
            else:
                await self._flush(stream)
                return

    async def _flush(self, stream: trio.SocketStream) -> None:
        pending = self._outgoing.read()
        if pending:
            await stream.send_all(pending)

    def decrypt(self, data: bytes) -> bytes:
        """Raw bytes from the socket in; whatever plaintext they complete out."""
        self._incoming.write(data)
        chunks = []
        while True:
            try:
                chunk = self._tls.read(READ_SIZE)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                self.closed = True
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def encrypt(self, data: bytes) -> bytes:
        """Plaintext in; the TLS records to put on the wire out."""
        self._tls.write(data)
        return self._outgoing.read()

    def pending_output(self) -> bytes:
        """TLS bytes produced while reading (alerts, session tickets, key updates)."""
        return self._outgoing.read()
