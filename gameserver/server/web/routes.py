"""What the HTTP side answers: pages, health, metrics, the rooms API, the live monitor.

| Path | Answer |
|---|---|
| ``/`` and files | the browser pages from ``web_root`` (``/x/`` is ``x/index.html``) |
| ``/games/<id>/`` | a served game's page: ``web_root``'s, else its package's (``gamepages.py``) |
| ``/healthz`` | 200 with JSON; 503 while draining |
| ``/api/info`` | where the game WebSocket is, what it speaks, its modes and their games |
| ``/api/roster?room=ID`` | a public room's players: entity id, name, score (the game page) |
| ``/monitor`` * | the live monitor page (``monitor.html``) |
| ``/monitor/events`` * | Server-Sent Events: the monitor document every ``monitor_interval_s`` |
| ``/metrics`` * | Prometheus text format |
| ``/api/rooms``, ``/api/rooms/<name>`` * | JSON: every room, or one, with rosters |
| ``/api/announce`` * | POST: an announcement to every player |
| the WebSocket path | 426: it only speaks WebSocket |

Operator routes (*) pass ``OperatorGuard`` first (``operator.py``): where
they are served and who may use them.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote

import attrs
import trio

from gameserver import __version__
from gameserver.auth import now_s
from gameserver.protocol import CHAT_MAX_CHARS, SUBPROTOCOL, SUBPROTOCOLS, ChatChannel, Role
from gameserver.server.cluster.matchmaking import MatchError, MatchRequest
from gameserver.server.network.addresses import address_key
from gameserver.server.web import prometheus
from gameserver.server.web.gamepages import game_page_folders
from gameserver.server.web.http import EventStream, Request, Response, text_response
from gameserver.server.web.operator import OperatorGuard, is_operator_path
from gameserver.server.web.status import (
    ServerState,
    health,
    is_private,
    room_status,
    rooms_status,
    roster,
    server_status,
    window_ticks,
)
from gameserver.tokens import TokenError

if TYPE_CHECKING:
    from gameserver.auth import Authenticator
    from gameserver.server.cluster.chat import ChatRelay
    from gameserver.server.cluster.matchmaking import Matchmaker
    from gameserver.server.rooms.replay import ReplayDriver


class WebServer(ServerState, Protocol):
    """What the HTTP side reads of the server (``GameServer``): its state and its parts."""

    @property
    def auth(self) -> Authenticator | None: ...
    @property
    def matchmaker(self) -> Matchmaker | None: ...
    @property
    def chat(self) -> ChatRelay | None: ...
    @property
    def replay(self) -> ReplayDriver | None: ...


CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
# Pages may load scripts, styles and connections only from this server.
PAGE_HEADERS = (
    ("cache-control", "no-cache"),
    (
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        "connect-src 'self' ws: wss:; frame-ancestors 'none'",
    ),
)
NO_STORE = (("cache-control", "no-store"),)


def json_response(
    status: int, document: Any, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    body = json.dumps(document, separators=(",", ":")).encode()
    return Response(status, body, "application/json", NO_STORE + headers)


class WebSide:
    def __init__(self, server: WebServer) -> None:
        self.server = server
        self.config = server.config
        root = self.config.web.web_root
        self.web_root = Path(root).resolve() if root else None
        # Only the games this server's modes play, or the one it replays: a URL never names
        # a module to import.
        rules = [game for game, _settings in server.room_manager.games.values()]
        if server.replay is not None:
            rules.insert(0, type(server.replay.game.rules))
        self.game_pages = game_page_folders(rules)
        self.monitor_streams = 0
        self.post_paths = frozenset({"/api/match", "/api/announce", "/api/replay"})
        self.operator_guard = OperatorGuard(self.config, server.metrics)

    async def handle(self, request: Request) -> Response | EventStream:
        if is_operator_path(request.path):
            refusal = self.operator_guard.refusal(request)
            if refusal is not None:
                return refusal
        return await self._route(request)

    async def _route(self, request: Request) -> Response | EventStream:
        path = request.path
        if path == "/api/match":
            return await self._match(request)
        if path == "/api/announce":
            return await self._announce(request)
        if path == "/api/replay":
            return self._replay(request)
        if path == "/healthz":
            status, document = health(self.server)
            return json_response(status, document)
        if path == "/metrics":
            return Response(200, prometheus.render(self.server), prometheus.CONTENT_TYPE, NO_STORE)
        if path == "/api/info":
            return json_response(200, self._info())
        if path == "/api/roster":
            return self._roster(request)
        if path == "/api/rooms":
            return json_response(
                200, rooms_status(self.server, include_private=self._operators_only)
            )
        if path.startswith("/api/rooms/"):
            return self._room(unquote(path.removeprefix("/api/rooms/")))
        if path == "/monitor/events":
            return self._monitor_events()
        if path == self.config.network.path:
            return Response(
                426,
                f"{path} speaks only WebSocket (subprotocol {SUBPROTOCOL})\n".encode(),
                headers=(("upgrade", "websocket"),),
            )
        if path == "/monitor":
            if "token" in request.query:  # the token was right: keep a cookie instead
                return self.operator_guard.cookie_redirect(request)
            path = "/monitor.html"
        return await self._file(path)

    async def _match(self, request: Request) -> Response:
        if request.method != "POST":
            return json_response(405, {"error": 'POST a JSON object: {"mode": NAME}'})
        matchmaker = self.server.matchmaker
        if matchmaker is None:
            return json_response(503, {"error": "the server is starting"})
        try:
            try:
                document = json.loads(request.body or b"null")
            except ValueError:
                raise MatchError(400, "the body is not JSON") from None
            match_request = MatchRequest.from_json(document)
            identity = None
            auth = self.server.auth
            if auth is not None:  # the seat goes to who the credential says, by its name
                headers = {key.lower(): value for key, value in request.headers}
                claims = auth.verify_bearer(headers.get("authorization"), now_s())
                if claims.role is not Role.PLAYER:
                    raise TokenError(403, "a spectator identity cannot take a seat")
                match_request = attrs.evolve(match_request, name=claims.name)
                identity = claims.subject
            answer = await matchmaker.match(
                match_request,
                address=address_key(request.remote, self.config.admission),
                identity=identity,
            )
        except TokenError as error:
            self.server.metrics.refused_match_credential += 1
            return json_response(
                error.status, {"error": error.reason}, (("www-authenticate", "Bearer"),)
            )
        except MatchError as error:
            response = json_response(error.status, {"error": error.reason})
            if error.retry_after_s is not None:
                retry = ("retry-after", str(math.ceil(error.retry_after_s)))
                response = attrs.evolve(response, headers=(*response.headers, retry))
            return response
        return json_response(200, answer)

    async def _announce(self, request: Request) -> Response:
        """An operator's message to every player on every node (``Authorization: Bearer``)."""
        # The token, when set, was checked with every operator route (_operator_refusal).
        if not self.config.admin.admin_token:
            return json_response(404, {"error": "announcements are off: no admin token is set"})
        if request.method != "POST":
            return json_response(405, {"error": 'POST a JSON object: {"text": ...}'})
        try:
            document = json.loads(request.body or b"null")
            text = document["text"]
        except (ValueError, TypeError, KeyError):
            return json_response(400, {"error": 'the body must be {"text": "..."}'})
        if not isinstance(text, str) or not 1 <= len(text) <= CHAT_MAX_CHARS:
            return json_response(400, {"error": f"text must be 1..{CHAT_MAX_CHARS} characters"})
        if not text.isprintable():
            return json_response(400, {"error": "text must be printable (no control characters)"})
        chat = self.server.chat
        if chat is None or not await chat.publish(ChatChannel.ANNOUNCEMENT, "server", text):
            return json_response(503, {"error": "the room directory is unavailable"})
        return json_response(200, {"sent": True})

    def _replay(self, request: Request) -> Response:
        """GET: where the replay is; POST {"seek": tick} / {"speed": x} / {"paused": bool}."""
        replay = self.server.replay
        if replay is None:
            return json_response(404, {"error": "this server is not replaying a recording"})
        if request.method == "POST":
            try:
                document = json.loads(request.body or b"null")
                if not isinstance(document, dict) or not document:
                    raise ValueError
                if "seek" in document:
                    replay.seek(int(document["seek"]))
                if "speed" in document:
                    speed = float(document["speed"])
                    if not 0.1 <= speed <= 64:
                        raise ValueError
                    replay.set_speed(speed)
                if "paused" in document:
                    replay.paused = bool(document["paused"])
                    replay.set_speed(replay.speed)  # wakes the driver
            except (ValueError, TypeError):
                return json_response(
                    400, {"error": 'POST {"seek": TICK}, {"speed": 0.1..64} or {"paused": BOOL}'}
                )
        return json_response(200, replay.status())

    def _info(self) -> dict[str, Any]:
        return {
            "version": __version__,
            "ws_path": self.config.network.path,
            "subprotocol": SUBPROTOCOL,  # the newest; every one spoken is in "subprotocols"
            "subprotocols": list(SUBPROTOCOLS),
            "tokens_required": bool(self.config.auth.join_secret),
            "rooms": [name for name in self.server.rooms if not is_private(self.server, name)],
            "modes": sorted(self.server.room_manager.modes),
            "mode_games": self._mode_games(),
            "node": self.server.matchmaker.node_id if self.server.matchmaker else "",
        }

    def _mode_games(self) -> dict[str, str]:
        """Each mode's game id, so a start page can send a player to the game's page."""
        # The room manager loaded every mode's rules class at start (or refused to start).
        games = self.server.room_manager.games
        return {name: games[name][0].id for name in sorted(games)}

    @property
    def _operators_only(self) -> bool:
        """Whether the operator routes are closed to the public (a token or their own
        listener): only then do they show private rooms."""
        return bool(self.config.admin.admin_token) or self.config.admin.admin_port is not None

    def _room(self, name: str) -> Response:
        room = self.server.rooms.get(name)
        if room is None or (is_private(self.server, name) and not self._operators_only):
            return json_response(404, {"error": f"no room named {name!r}"})
        ticks = window_ticks(self.server)
        private = is_private(self.server, name)
        return json_response(200, room_status(room, window_ticks=ticks, private=private))

    def _roster(self, request: Request) -> Response:
        """A public room's players, for the game page's scoreboard; private rooms are not shown."""
        name = request.query.get("room", ["default"])[0]
        room = self.server.rooms.get(name)
        if room is None or is_private(self.server, name):
            return json_response(404, {"error": f"no public room named {name!r}"})
        return json_response(200, {"room": name, "roster": roster(room)})

    def _monitor_events(self) -> Response | EventStream:
        # The check and the count are one step: the slot is taken before the response is
        # written, and given back by the HTTP side when the stream ends (on_close).
        if self.monitor_streams >= self.config.admin.max_monitor_streams:
            self.server.metrics.monitor_streams_refused += 1
            return text_response(503, "too many monitor streams open; try again later")
        self.monitor_streams += 1
        return EventStream(self._events(), on_close=self._monitor_stream_closed)

    def _monitor_stream_closed(self) -> None:
        self.monitor_streams -= 1

    async def _events(self) -> AsyncGenerator[bytes, None]:
        interval_s = self.config.admin.monitor_interval_s
        yield f"retry: {round(interval_s * 2000)}\n\n".encode()
        while not self.server.draining:
            document = server_status(
                self.server, window_s=interval_s, include_private=self._operators_only
            )
            yield b"data: " + json.dumps(document, separators=(",", ":")).encode() + b"\n\n"
            await trio.sleep(interval_s)
        yield b"event: draining\ndata: {}\n\n"

    async def _file(self, path: str) -> Response:
        if self.web_root is None:
            return text_response(404, f"no page at {path}: this server serves no web client")
        relative = unquote(path).lstrip("/")
        if relative == "" or relative.endswith("/"):  # a folder's page: /games/arena/
            relative += "index.html"
        parts = relative.split("/")
        if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
            return text_response(404, f"no page at {path}")
        root = self.web_root
        game = parts[1] if len(parts) > 2 and parts[0] == "games" else ""
        # web_root's folder for a game wins; else the game's package serves its page.
        if game in self.game_pages and not await trio.Path(self.web_root, "games", game).is_dir():
            root, parts = self.game_pages[game], parts[2:]
        candidate = root.joinpath(*parts)
        content_type = CONTENT_TYPES.get(candidate.suffix.lower())
        if content_type is None:
            return text_response(404, f"no page at {path}")
        try:
            # A symlink out of its root (web_root or the game's folder) is not served.
            real = await trio.Path(candidate).resolve(strict=True)
            if not Path(real).is_relative_to(root):
                raise FileNotFoundError(path)
            body = await real.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
            return text_response(404, f"no page at {path}")
        return Response(200, body, content_type, PAGE_HEADERS)
