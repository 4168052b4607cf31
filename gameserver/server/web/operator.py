"""Where the operator routes are served, and who may use them.

Theory of operation: ``/metrics``, ``/monitor``, ``/monitor/events``,
``/api/rooms`` and ``/api/announce`` show (or reach) every player, so they are
served where operators are. Two settings decide:

- with an admin listener (``admin_port``) they exist only there; the game's
  port answers 404, as for any unknown page;
- with an admin token they need it, wherever served: ``Authorization: Bearer
  TOKEN``, or, for a browser on read-only routes, the cookie that ``GET
  /monitor?token=TOKEN`` sets before redirecting to ``/monitor`` (so the
  token leaves the address bar). The cookie holds an HMAC of the token, not
  the token, and never authorizes a POST (cross-site requests).

With neither (development) they are open, and the server warns at start-up.
A wrong token spends its address's failure budget (``address_key``); an
address out of budget gets 429 with Retry-After before any comparison, so
guessing gains nothing from speed. A request without any credential spends
nothing: it guesses nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import math

import trio

from gameserver.config import Config
from gameserver.server.limits import FailureBudget
from gameserver.server.metrics import Metrics
from gameserver.server.network.addresses import address_key
from gameserver.server.web.http import Request, Response, text_response

OPERATOR_PATHS = frozenset(
    {"/metrics", "/monitor", "/monitor.html", "/monitor/events", "/api/rooms", "/api/announce"}
)
ADMIN_COOKIE = "gameserver_admin"
NO_STORE = (("cache-control", "no-store"),)


def is_operator_path(path: str) -> bool:
    return path in OPERATOR_PATHS or path.startswith("/api/rooms/")


def admin_cookie_value(token: str) -> str:
    """What the browser keeps instead of the token itself; it changes with the token."""
    return hmac.new(token.encode(), b"gameserver operator cookie v1", hashlib.sha256).hexdigest()


def _cookies(request: Request) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in request.headers:
        if name.lower() == "cookie":
            for part in value.split(";"):
                key, _, item = part.strip().partition("=")
                found.setdefault(key, item)
    return found


class OperatorGuard:
    def __init__(self, config: Config, metrics: Metrics) -> None:
        self.config = config
        self.metrics = metrics
        self.failures = FailureBudget(
            config.admin.admin_failure_rate_per_s, config.admin.admin_failure_burst
        )

    def refusal(self, request: Request) -> Response | None:
        """Why ``request`` may not use an operator route here, or None."""
        config = self.config
        if config.admin.admin_port is not None and not request.admin:
            return text_response(404, f"no page at {request.path}")  # not here at all
        token = config.admin.admin_token
        if token is None:
            return None  # the admin listener, or development (warned at start-up)
        given = self._given_credential(request, token)
        if given is None:
            self.metrics.refused_admin += 1
            return self._unauthorized(request)
        key = address_key(request.remote, config.admission)
        now_s = trio.current_time()
        wait_s = self.failures.blocked_for_s(key, now_s)
        if wait_s > 0:
            self.metrics.admin_failures_refused += 1
            retry = (("retry-after", str(math.ceil(wait_s))), *NO_STORE)
            return Response(429, b"too many wrong admin tokens; try again later\n", headers=retry)
        if given:
            return None
        self.failures.fail(key, now_s)
        self.metrics.refused_admin += 1
        return self._unauthorized(request)

    def cookie_redirect(self, request: Request) -> Response:
        """``/monitor?token=`` (already checked): keep a cookie instead, and drop the token."""
        token = self.config.admin.admin_token
        if token is None:  # open: nothing to remember
            return Response(303, b"", headers=(("location", "/monitor"), *NO_STORE))
        attributes = "Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if request.secure else "")
        cookie = f"{ADMIN_COOKIE}={admin_cookie_value(token)}; {attributes}"
        headers = (("location", "/monitor"), ("set-cookie", cookie), *NO_STORE)
        return Response(303, b"", headers=headers)

    def _given_credential(self, request: Request, token: str) -> bool | None:
        """None: no credential offered; else whether it is right (compared in constant time)."""
        headers = {name.lower(): value for name, value in request.headers}
        authorization = headers.get("authorization")
        if authorization is not None:
            return hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode())
        if request.method not in ("GET", "HEAD"):
            return None  # a cookie never authorizes a change (cross-site requests)
        if request.path == "/monitor" and "token" in request.query:
            return hmac.compare_digest(request.query["token"][0].encode(), token.encode())
        cookie = _cookies(request).get(ADMIN_COOKIE)
        if cookie is not None:
            return hmac.compare_digest(cookie.encode(), admin_cookie_value(token).encode())
        return None

    def _unauthorized(self, request: Request) -> Response:
        challenge = (("www-authenticate", 'Bearer realm="gameserver operator"'), *NO_STORE)
        if request.path in ("/monitor", "/monitor.html"):
            hint = "open /monitor?token=ADMIN_TOKEN once"
        else:
            hint = "send Authorization: Bearer ADMIN_TOKEN"
        body = f"missing or wrong admin token: {hint}\n".encode()
        return Response(401, body, headers=challenge)
