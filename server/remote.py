"""A training server on another machine, used as if it were this server's
own ``JobRunner`` (server/jobs.py): ``playground serve --trainer-url URL
--trainer-token TOKEN`` hands the page a ``RemoteTrainer``, and the page
opens jobs on it exactly as on a local runner.

Each job is one websocket to the server's ``/api/jobs/connect`` (see
server/trainer_api.py for the endpoints and the framing). All of a
trainer's websockets live on one Tornado IOLoop in one background thread,
started with the first job, so the page's own event loop never waits on the
network: ``open``, ``send`` and ``close`` only hand work to that loop and
return at once.

A full server is not an exception here: ``open`` cannot know before the
connection is made, and it must not block the page for it. The job then
ends at once with ``ended`` carrying the server's reason ("the server is
already training 2 models…"), the same message a local job sends when it
stops, so the page has one path for both.

This module does not need torch: the web machine may have none.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import threading
import urllib.error
import urllib.parse
import urllib.request

from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.ioloop import IOLoop
from tornado.websocket import WebSocketClosedError, websocket_connect

from playground.spec import Spec, SpecError

from .trainer_api import MAX_MESSAGE_BYTES, PING_SECONDS, close_reason, pack, unpack


class RemoteTrainerError(Exception):
    """The training server cannot be used (unreachable, token refused, not a
    playground trainer); the message says which and where."""


class RemoteTrainer:
    """The client of a training server, with the surface of ``JobRunner`` that
    the page uses: ``where``, ``open(emit)``, ``info()``, ``jobs()``,
    ``check_spec(spec)`` and ``close_all(reason)``.

    The constructor asks the server for /api/info (within ``timeout``
    seconds), so a wrong URL or token shows when the web server starts, not
    when a learner first presses play. ``info``, ``jobs`` and ``check_spec``
    are blocking HTTP requests; ``open`` and the jobs never block."""

    def __init__(self, url: str, token: str, timeout: float = 10.0):
        parts = urllib.parse.urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RemoteTrainerError(f"the training server's URL must start with http:// or https:// "
                                     f"and name a host, like http://gpu-box:8765 (got {url!r})")
        if not token:
            raise RemoteTrainerError("the training server needs its token (--trainer-token or "
                                     "$PLAYGROUND_TRAINER_TOKEN)")
        self.url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
        self.token = token
        self.timeout = timeout
        self._socket_url = ("wss" if parts.scheme == "https" else "ws") + self.url[len(parts.scheme):] \
            + "/api/jobs/connect"
        self._info = self.info()
        if "where" not in self._info:
            raise RemoteTrainerError(f"{self.url} answered /api/info without saying where it trains; "
                                     f"is it a playground training server?")
        self.where = f"{self._info['where']} at {self.url}"
        self._loop: IOLoop | None = None
        self._loop_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._jobs: set[RemoteJob] = set()

    # --- REST (blocking) -----------------------------------------------------------------

    def info(self) -> dict:
        """The server's /api/info: device, where, torch, limits, jobs."""
        return self._request("GET", "/api/info")

    def jobs(self) -> list[dict]:
        """The jobs running on the server (every web server's, not only ours)."""
        return self._request("GET", "/api/jobs")["jobs"]

    def check_spec(self, spec: Spec) -> None:
        """Raise SpecError (with the field's path) if the server would refuse ``spec``."""
        self._request("POST", "/api/check", {"spec": spec.to_dict()})

    def _request(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": f"Bearer {self.token}",
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            answer = _json_or_none(error.read())
            message = answer.get("error") if isinstance(answer, dict) else None
            if error.code == 400 and path == "/api/check" and message:
                raise SpecError(message, answer.get("path", "")) from None
            if error.code == 401:
                raise RemoteTrainerError(f"the training server at {self.url} refused the token "
                                         f"({message or 'HTTP 401'})") from None
            raise RemoteTrainerError(f"the training server at {self.url} answered {method} {path} with "
                                     f"HTTP {error.code}: {message or error.reason}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise RemoteTrainerError(f"cannot reach the training server at {self.url} ({reason})") from None
        except ValueError:
            raise RemoteTrainerError(f"{self.url}{path} did not answer JSON; is it a playground "
                                     f"training server?") from None

    # --- jobs ----------------------------------------------------------------------------

    def open(self, emit) -> RemoteJob:
        """A new job on the server, reporting through ``emit(message, buffer)``
        (called from this trainer's thread). Never raises JobRefused: a full
        server ends the job at once with ``ended`` and the server's reason."""
        job = RemoteJob(self, f"remote-{next(self._ids)}", emit)
        self._jobs.add(job)
        self._event_loop().add_callback(job._connect)
        return job

    def close_all(self, reason: str = "the server is stopping") -> None:
        for job in list(self._jobs):
            job.close(reason)

    def _event_loop(self) -> IOLoop:
        with self._loop_lock:
            if self._loop is None:
                started = threading.Event()

                def run():
                    asyncio.set_event_loop(asyncio.new_event_loop())
                    self._loop = IOLoop.current()
                    started.set()
                    self._loop.start()

                threading.Thread(target=run, name="playground remote trainer", daemon=True).start()
                started.wait()
            return self._loop

    def _finished(self, job: RemoteJob) -> None:
        self._jobs.discard(job)


class RemoteJob:
    """One job on the training server, through its websocket.

    ``id`` is local ("remote-1") and known at once; every message handed to
    ``emit`` carries it as ``job`` (the server's own id is ``server_id``,
    once the job is ready), and ``ready``'s ``where`` names the server."""

    def __init__(self, trainer: RemoteTrainer, job_id: str, emit):
        self.id = job_id
        self.server_id: str | None = None
        self.trainer = trainer
        self._emit = emit
        self._ended = threading.Event()
        # Touched on the trainer's loop only:
        self._connection = None
        self._pending: list[dict] = []
        self._closing: str | None = None

    @property
    def alive(self) -> bool:
        return not self._ended.is_set()

    def join(self, timeout: float | None = None) -> bool:
        return self._ended.wait(timeout)

    def send(self, message: dict) -> None:
        """A message of the worker protocol (from any thread)."""
        if self.alive:
            self.trainer._event_loop().add_callback(self._write, message)

    def close(self, reason: str = "closed") -> None:
        """End the job; ``emit`` gets ``ended`` with ``reason`` once the socket is shut."""
        if self.alive:
            self.trainer._event_loop().add_callback(self._close, reason)

    # --- on the trainer's loop -----------------------------------------------------------

    def _write(self, message: dict) -> None:
        if self._connection is None:
            self._pending.append(message)  # sent once connected
            return
        try:
            self._connection.write_message(pack(message))
        except WebSocketClosedError:
            pass  # the reading side reports the loss

    def _close(self, reason: str) -> None:
        if self._closing is not None or self._ended.is_set():
            return
        self._closing = reason
        if self._connection is not None:
            self._connection.close(1000, close_reason(reason))
        # else _connect sees _closing once connected (or failing) and ends the job

    async def _connect(self) -> None:
        trainer = self.trainer
        request = HTTPRequest(self.trainer._socket_url, headers={"Authorization": f"Bearer {trainer.token}"},
                              connect_timeout=trainer.timeout, request_timeout=trainer.timeout)
        try:
            connection = await websocket_connect(request, max_message_size=MAX_MESSAGE_BYTES,
                                                 ping_interval=PING_SECONDS)
        except HTTPClientError as error:
            answer = _json_or_none(error.response.body) if error.response is not None else None
            message = answer.get("error") if isinstance(answer, dict) else None
            self._end(f"the training server at {trainer.url} refused the job (HTTP {error.code}: "
                      f"{message or error.message})")
            return
        except Exception as error:  # refused, unreachable, timed out, TLS…
            self._end(f"cannot reach the training server at {trainer.url} ({type(error).__name__}: {error})")
            return
        self._connection = connection
        pending, self._pending = self._pending, []
        if self._closing is not None:  # closed while connecting
            connection.close(1000, close_reason(self._closing))
        else:
            for message in pending:
                self._write(message)
        await self._read(connection)

    async def _read(self, connection) -> None:
        while True:
            data = await connection.read_message()
            if data is None:
                break
            try:
                message, buffer = unpack(data)
            except ValueError as error:
                self._deliver({"type": "failed", "request": None,
                               "message": f"the training server sent a message this page cannot read ({error})"},
                              None)
                continue
            if message["type"] == "ended":
                connection.close(1000)
                self._end(str(message.get("reason") or "closed"))
                return
            if message["type"] == "ready":
                self.server_id = message.get("job")
                message["where"] = self.trainer.where
            self._deliver(message, None if buffer is None else buffer)
        if self._closing is not None:
            self._end(self._closing)
        else:
            code = f", code {connection.close_code}" if connection.close_code else ""
            self._end(f"the training server at {self.trainer.url} closed the connection "
                      f"(connection lost{code})")

    def _deliver(self, message: dict, buffer: bytes | None) -> None:
        message["job"] = self.id
        try:
            self._emit(message, buffer)
        except Exception:  # the page has gone; so does the job
            self._close("the page is gone")

    def _end(self, reason: str) -> None:
        if self._ended.is_set():
            return
        self._ended.set()
        self.trainer._finished(self)
        self._pending.clear()
        try:
            self._emit({"type": "ended", "reason": reason, "job": self.id}, None)
        except Exception:
            pass


def _json_or_none(data: bytes | None):
    try:
        return json.loads(data) if data else None
    except ValueError:
        return None
