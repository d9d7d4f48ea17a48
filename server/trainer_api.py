"""The training service's HTTP API: REST endpoints to look at and steer the
jobs of a ``JobRunner``, and a websocket that carries one job's worker
protocol (see server/jobs.py), so that a web server can send its training to
another machine (a GPU box) by URL and token.

The same routes serve two setups: ``playground trainer`` (only this API, on
the GPU machine) and ``playground serve --api-token`` (the web server's own
runner, next to the page). The README's "Training server API" lists every
endpoint.

Framing on the websocket: a message without bytes travels as a text frame
holding its JSON; a message with bytes (a training frame, a probe) as one
binary frame: a 4-byte big-endian length, that many bytes of JSON header, then
the bytes. One frame per message keeps the pairing of header and bytes
trivial.

This module does not import torch (the runner does), so that the web server
and ``server/remote.py`` can use its framing without it.
"""
from __future__ import annotations

import hmac
import json
import struct
from typing import TYPE_CHECKING

from tornado.escape import json_decode
from tornado.ioloop import IOLoop
from tornado.web import HTTPError, RequestHandler
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from playground.routing import JobRefused, epoch_cost
from playground.spec import Spec, SpecError, plan_layers

from .json_api import JsonApiMixin

if TYPE_CHECKING:
    from .jobs import JobRunner

#: The largest websocket message either side takes (snapshots carry the weights as text).
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
#: Seconds between pings, so that a dead link ends its job instead of holding a slot.
PING_SECONDS = 20.0
API_OFF = "this server's training API is off; start it with a token (see README)"
NO_TOKEN = ("this request needs the training API's token: send the header 'Authorization: Bearer <token>' "
            "(a browser's websocket may add ?token=<token> to the URL instead)")
WRONG_TOKEN = "the token is wrong: it does not match the one this training server was started with"
FULL = 1013  # websocket close code "try again later"


# --- framing -------------------------------------------------------------------------------

def pack(message: dict, buffer: bytes | None = None) -> str | bytes:
    """One protocol message as one websocket frame (text, or binary with its bytes)."""
    text = json.dumps(message, separators=(",", ":"))
    if buffer is None:
        return text
    header = text.encode()
    return struct.pack(">I", len(header)) + header + bytes(buffer)


def unpack(data: str | bytes) -> tuple[dict, bytes | None]:
    """The inverse of ``pack``; ValueError says what is wrong with a frame."""
    if isinstance(data, str):
        buffer = None
        header = data
    else:
        if len(data) < 4:
            raise ValueError(f"a binary message of {len(data)} bytes is too short for its 4-byte header length")
        (length,) = struct.unpack(">I", data[:4])
        if 4 + length > len(data):
            raise ValueError(f"a binary message's header length ({length} bytes) runs past its end "
                             f"({len(data)} bytes)")
        header = bytes(data[4:4 + length]).decode()
        buffer = bytes(data[4 + length:])
    message = json.loads(header)
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ValueError("a message must be a JSON object with a \"type\"")
    return message, buffer


def close_reason(text: str) -> str:
    """A websocket close reason: at most 123 bytes of UTF-8 (RFC 6455)."""
    return text.encode()[:120].decode(errors="ignore")


# --- auth and errors -------------------------------------------------------------------------

class ApiError(HTTPError):
    """An error answered as JSON ``{"error": message, ...extra}``."""

    def __init__(self, status: int, message: str, **extra):
        super().__init__(status, reason=None)
        self.message = message
        self.extra = extra


class _ApiMixin(JsonApiMixin):
    """Token check before any method; JSON replies and errors (json_api.py)."""

    realm = "playground trainer"
    failure_words = "the training server"
    no_token_words = NO_TOKEN

    needs_token = True

    def initialize(self, runner: JobRunner, token: str | None):
        self.runner = runner
        self.token = token

    def prepare(self):
        if not self.needs_token:
            return
        if self.token is None:
            raise ApiError(403, API_OFF)
        if not hmac.compare_digest(self.given_token().encode(), self.token.encode()):
            raise ApiError(401, WRONG_TOKEN)

    def refused(self, status: int, words: str) -> Exception:
        return ApiError(status, words)

    def refusal(self, error) -> dict | None:
        return {"error": error.message, **error.extra} if isinstance(error, ApiError) else None


# --- REST ----------------------------------------------------------------------------------

class HealthHandler(_ApiMixin, RequestHandler):
    """GET /api/health: is it up, and how many jobs run. No token: a load
    balancer or a monitor asks it. It takes no lock that training holds and
    does not touch torch, so it answers at once however busy the jobs are."""

    needs_token = False

    def get(self):
        self.reply({"ok": True, "jobs": len(self.runner.jobs())})


class InfoHandler(_ApiMixin, RequestHandler):
    """GET /api/info: the device, torch's version, the limits and the job count."""

    def get(self):
        self.reply(self.runner.info())


class JobsHandler(_ApiMixin, RequestHandler):
    """GET /api/jobs: the running jobs."""

    def get(self):
        self.reply({"jobs": self.runner.jobs()})


class JobHandler(_ApiMixin, RequestHandler):
    """GET /api/jobs/<id>: one job; DELETE cancels it (its websocket gets ``ended``)."""

    def get(self, job_id: str):
        self.reply(self._job(job_id).describe())

    def delete(self, job_id: str):
        job = self._job(job_id)
        job.close("cancelled through the training API")
        self.reply({"ok": True, "job": job.id})

    def _job(self, job_id: str):
        job = self.runner.get(job_id)
        if job is None:
            raise ApiError(404, f"there is no job {job_id!r} on this server (it may have ended); "
                                f"GET /api/jobs lists the running ones")
        return job


class CheckHandler(_ApiMixin, RequestHandler):
    """POST /api/check {"spec": {...}}: would this server train that spec?
    Answers its size, or the spec's first problem with the field's path."""

    def post(self):
        try:
            body = json_decode(self.request.body or b"")
        except ValueError as error:
            raise ApiError(400, f"the request body is not JSON ({error}); send {{\"spec\": {{...}}}}") from None
        if not isinstance(body, dict) or "spec" not in body:
            raise ApiError(400, "the request body needs a \"spec\" field: {\"spec\": {...}}")
        raw = body["spec"]
        try:
            spec = Spec.from_json(raw) if isinstance(raw, str) else Spec.from_dict(raw)
            self.runner.check_spec(spec)
            parameters = sum(plan.parameter_count for plan in plan_layers(spec))
            cost = epoch_cost(spec)
        except SpecError as error:
            raise ApiError(400, str(error), path=error.path) from None
        self.reply({"ok": True, "parameters": parameters, "epoch_cost": cost})


# --- the websocket -------------------------------------------------------------------------

class JobSocket(_ApiMixin, WebSocketHandler):
    """GET /api/jobs/connect (websocket): one job for as long as the socket is open.

    Text frames in are protocol messages for the job; the job's messages go
    out framed by ``pack``. The job's thread never touches the socket: it
    hands each message to the IOLoop."""

    job = None

    @property
    def max_message_size(self) -> int:
        return MAX_MESSAGE_BYTES

    @property
    def ping_interval(self) -> float:
        return PING_SECONDS

    async def get(self, *args, **kwargs):
        self.require_websocket("/api/jobs/connect")
        await super().get(*args, **kwargs)

    def check_origin(self, origin: str) -> bool:
        # The token, not a cookie, is what lets a client in, so a page on another
        # origin gains nothing it does not already hold.
        return True

    def open(self):
        self.loop = IOLoop.current()
        try:
            self.job = self.runner.open(self._from_job)
        except JobRefused as refusal:
            self.write_message(pack({"type": "ended", "reason": str(refusal)}))
            self.close(FULL, "the training server is full")

    def on_message(self, data):
        if self.job is None:
            return
        if isinstance(data, bytes):
            self._failed("binary messages are not requests: send each request as JSON text")
            return
        try:
            message = json.loads(data)
        except ValueError as error:
            self._failed(f"the message is not JSON ({error})")
            return
        if not isinstance(message, dict):
            self._failed(f"a message must be a JSON object with a \"type\", not {type(message).__name__}")
            return
        self.job.send(message)

    def on_close(self):
        if self.job is not None:
            self.job.close("the connection closed")

    def _failed(self, text: str) -> None:
        self.write_message(pack({"type": "failed", "request": None, "message": text,
                                 "job": self.job.id if self.job else None}))

    def _from_job(self, message: dict, buffer: bytes | None) -> None:
        """The job's emit (its own thread): on to the IOLoop."""
        self.loop.add_callback(self._deliver, message, buffer)

    def _deliver(self, message: dict, buffer: bytes | None) -> None:
        if self.ws_connection is None:  # the socket closed; the job is closing too
            return
        try:
            self.write_message(pack(message, buffer), binary=buffer is not None)
        except WebSocketClosedError:
            return
        if message.get("type") == "ended":
            self.close(1000, close_reason(str(message.get("reason", ""))))


def trainer_routes(runner: JobRunner, token: str | None) -> list:
    """The API's (pattern, handler, kwargs) tuples for a Tornado application
    (or Panel's ``extra_patterns``). ``token`` None turns every endpoint but
    /api/health off (403)."""
    options = {"runner": runner, "token": token}
    return [
        (r"/api/health", HealthHandler, options),
        (r"/api/info", InfoHandler, options),
        (r"/api/check", CheckHandler, options),
        (r"/api/jobs", JobsHandler, options),
        (r"/api/jobs/connect", JobSocket, options),  # before the next: "connect" is no job id
        (r"/api/jobs/([^/]+)", JobHandler, options),
    ]


def trainer_application(runner: JobRunner, token: str | None):
    """A Tornado application with only the training API (``playground trainer``)."""
    from tornado.web import Application

    return Application(trainer_routes(runner, token), websocket_max_message_size=MAX_MESSAGE_BYTES)


def run_trainer(host: str, port: int, token: str, limits=None, device: str | None = None) -> None:
    """``playground trainer``: serve the training API until Ctrl+C. ValueError
    says why it cannot start (no GPU for --device cuda, the port is taken)."""
    import asyncio
    import socket

    import torch

    from .jobs import JobLimits, JobRunner

    if device and device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {device}: this torch ({torch.__version__}) sees no CUDA GPU; "
                         f"leave --device out to train on the CPU")
    runner = JobRunner(limits or JobLimits(), device=device)
    shown = socket.gethostname() if host in ("", "0.0.0.0", "::") else host  # as another machine names it

    async def serve_forever():
        try:
            trainer_application(runner, token).listen(port, address=host, max_body_size=MAX_MESSAGE_BYTES)
        except OSError as error:
            raise ValueError(f"cannot listen on {host}:{port} ({error.strerror or error})") from None
        print(f"Training service on {runner.where} (device {runner.device}), listening on {host}:{port}. "
              f"Point a web server at it: playground serve --trainer-url http://{shown}:{port} "
              f"--trainer-token … (Ctrl+C stops it)", flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(serve_forever())
    except KeyboardInterrupt:
        pass
    finally:
        runner.close_all("the training server is stopping")
