"""The HTTP side: request serving, the routes, game pages, status, metrics, operator access.

- ``http.py``: serving HTTP/1.1 requests on a front-door stream with h11, with limits.
- ``routes.py``: what each path answers (``WebSide``).
- ``gamepages.py``: a game package's own page folder.
- ``status.py``: the server's state as plain data (``/healthz``, ``/api/rooms``, the monitor).
- ``prometheus.py``: ``/metrics``; ``operator.py``: who may use the operator routes.
"""

from __future__ import annotations

__all__: list[str] = []  # a folder of modules: import the module you need
