"""How bytes reach a room: the front door, the handshake's stream, the two transports, TLS.

- ``frontdoor.py``: one listener for WebSocket upgrades and plain HTTP, with the
  per-address and total connection limits and the request-head timeout.
- ``handover.py``: the stream a connection arrives on, read once by the front door and
  then handed to trio-websocket, the HTTP side or the fast transport.
- ``fast.py``: the fast transport, tick-synchronous I/O: the ticker reads and writes its
  connections' sockets itself, once per tick (``server_frames.py``: what it writes).
- ``tasks.py``: the tasks transport, a reader and a writer task per connection over
  trio-websocket (``framemeter.py`` counts its frames for the rate limits).
- ``tls.py``: TLS for the fast transport; ``addresses.py``: the key per-address limits
  count under.
"""

from __future__ import annotations

__all__: list[str] = []  # a folder of modules: import the module you need
