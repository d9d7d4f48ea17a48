"""The training service's API (server/trainer_api.py) and its client
(server/remote.py), over real HTTP and websockets: a Tornado server on a
free loopback port, on its own IOLoop in a thread, training on the CPU."""
from __future__ import annotations

import asyncio
import json
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets
from tornado.websocket import websocket_connect

from playground.frames import decode
from playground.snapshot import read_snapshot_text
from playground.spec import Dense, Spec, SpecError, Task, plan_layers
from server.jobs import JobLimits, JobRunner
from server.remote import RemoteTrainer, RemoteTrainerError
from server.trainer_api import API_OFF, MAX_MESSAGE_BYTES, close_reason, pack, trainer_application, unpack

TOKEN = "s3cret-token"
SPEC = Spec(task=Task("circle"), layers=(Dense(4), Dense(2)))
LIMITS = JobLimits(max_jobs=1, max_seconds=60, max_parameters=10_000, threads=1)
PROTECTED = [("GET", "/api/info"), ("GET", "/api/jobs"), ("GET", "/api/jobs/job-1"),
             ("DELETE", "/api/jobs/job-1"), ("POST", "/api/check")]


class Service:
    """The training API as ``playground trainer`` runs it, in a thread."""

    def __init__(self, token: str | None, limits: JobLimits = LIMITS):
        self.runner = JobRunner(limits, device="cpu")
        sockets = bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        started = threading.Event()

        def run():
            asyncio.set_event_loop(asyncio.new_event_loop())
            self.loop = IOLoop.current()
            server = HTTPServer(trainer_application(self.runner, token), max_body_size=MAX_MESSAGE_BYTES)
            server.add_sockets(sockets)
            started.set()
            self.loop.start()
            server.stop()
            self.loop.close(all_fds=True)

        self.thread = threading.Thread(target=run, name="test trainer service", daemon=True)
        self.thread.start()
        started.wait(10)

    def stop(self, close_jobs: bool = True) -> None:
        if close_jobs:
            self.runner.close_all("the test is over")
        self.loop.add_callback(self.loop.stop)
        self.thread.join(10)


def run_async(coroutine):
    """Run a scenario on a fresh event loop in its own thread: Playwright's
    sync API keeps a loop running in the main thread when browser tests ran
    earlier in the session, and asyncio.run refuses to start inside it."""
    outcome = {}

    def run():
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as error:  # re-raised in the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, name="test scenario")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@pytest.fixture(scope="module")
def service():
    running = Service(TOKEN)
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def no_jobs_left(request):
    """max_jobs is 1: every test leaves the runner empty for the next."""
    yield
    if "service" in request.fixturenames:
        runner = request.getfixturevalue("service").runner
        runner.close_all("the test is over")
        assert wait_until(lambda: not runner.jobs(), 5), runner.jobs()


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def call(service, method: str, path: str, body=None, *, token: str | None = TOKEN, headers=None):
    """(status, JSON body) of one request."""
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    headers = dict(headers or {})
    if token is not None:
        headers.setdefault("Authorization", f"Bearer {token}")
    request = urllib.request.Request(service.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class Socket:
    """A websocket client of /api/jobs/connect, reading in the test's own loop."""

    def __init__(self, connection):
        self.connection = connection

    @classmethod
    async def connect(cls, service, token: str | None = TOKEN, query: bool = False) -> Socket:
        url = f"ws://127.0.0.1:{service.port}/api/jobs/connect"
        headers = {}
        if token is not None and query:
            url += f"?token={token}"
        elif token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return cls(await websocket_connect(HTTPRequest(url, headers=headers), max_message_size=MAX_MESSAGE_BYTES))

    def send(self, **message) -> None:
        self.connection.write_message(json.dumps(message))

    async def receive(self, seconds: float = 10.0):
        """The next (message, buffer), or None once the socket has closed."""
        data = await asyncio.wait_for(self.connection.read_message(), seconds)
        return None if data is None else unpack(data)

    async def until(self, kind: str, seconds: float = 10.0):
        """Read up to the next message of ``kind``, acknowledging frames on the way."""
        deadline = time.monotonic() + seconds
        while True:
            received = await self.receive(max(0.01, deadline - time.monotonic()))
            assert received is not None, f"the socket closed while waiting for {kind!r}"
            message, buffer = received
            if message["type"] == kind:
                return message, buffer
            assert message["type"] != "ended", f"the job ended while waiting for {kind!r}: {message}"
            if message["type"] == "frame":
                self.send(type="ack", count=1)


# --- framing, health, auth -------------------------------------------------------------------

def test_pack_and_unpack_round_trip():
    assert unpack(pack({"type": "ready", "job": "job-1"})) == ({"type": "ready", "job": "job-1"}, None)
    data = pack({"type": "frame", "job": "job-1"}, b"\x00\x01bytes")
    assert isinstance(data, bytes) and int.from_bytes(data[:4], "big") == len(b'{"type":"frame","job":"job-1"}')
    assert unpack(data) == ({"type": "frame", "job": "job-1"}, b"\x00\x01bytes")
    assert close_reason("é" * 100).encode() == ("é" * 60).encode()  # 120 bytes: within a close frame's 123
    with pytest.raises(ValueError, match="runs past"):
        unpack(b"\x00\x00\x01\x00{}")


def test_health_needs_no_token(service):
    assert call(service, "GET", "/api/health", token=None) == (200, {"ok": True, "jobs": 0})


@pytest.mark.parametrize("method, path", PROTECTED)
def test_every_endpoint_needs_the_token(service, method, path):
    body = {"spec": SPEC.to_dict()} if method == "POST" else None
    status, answer = call(service, method, path, body, token=None)
    assert status == 401 and "Authorization: Bearer" in answer["error"]
    status, answer = call(service, method, path, body, token="wrong")
    assert status == 401 and "token is wrong" in answer["error"]
    status, answer = call(service, method, path, body, token=None, headers={"Authorization": "Basic abc"})
    assert status == 401 and "Bearer <token>" in answer["error"]


def test_the_token_may_come_in_the_query(service):
    status, answer = call(service, "GET", f"/api/jobs?token={TOKEN}", token=None)
    assert (status, answer) == (200, {"jobs": []})


def test_the_websocket_needs_the_token(service):
    async def scenario():
        for token in (None, "wrong"):
            with pytest.raises(HTTPClientError) as refused:
                await Socket.connect(service, token=token)
            assert refused.value.code == 401
    run_async(scenario())
    assert not service.runner.jobs()


def test_without_a_token_the_api_is_off():
    off = Service(token=None)
    try:
        assert call(off, "GET", "/api/health", token=None) == (200, {"ok": True, "jobs": 0})
        for method, path in PROTECTED:
            assert call(off, method, path, {"spec": {}} if method == "POST" else None, token="any") == \
                (403, {"error": API_OFF})

        async def scenario():
            with pytest.raises(HTTPClientError) as refused:
                await Socket.connect(off, token="any")
            assert refused.value.code == 403
        run_async(scenario())
        with pytest.raises(RemoteTrainerError, match="HTTP 403: this server's training API is off"):
            RemoteTrainer(off.url, "any")
    finally:
        off.stop()


# --- REST ------------------------------------------------------------------------------------

def test_info(service):
    status, info = call(service, "GET", "/api/info")
    assert status == 200
    assert info["device"] == "cpu" and info["where"] == "CPU" and info["torch"]
    assert info["limits"]["max_jobs"] == 1 and info["jobs"] == 0


def test_check_a_valid_spec(service):
    status, answer = call(service, "POST", "/api/check", {"spec": SPEC.to_dict()})
    assert status == 200 and answer["ok"] is True
    assert answer["parameters"] == sum(plan.parameter_count for plan in plan_layers(SPEC))
    assert answer["epoch_cost"] > 0
    assert call(service, "POST", "/api/check", {"spec": SPEC.to_json()})[1] == answer  # JSON text too


def test_check_an_invalid_spec(service):
    raw = SPEC.to_dict()
    raw["layers"][0]["units"] = -3
    status, answer = call(service, "POST", "/api/check", {"spec": raw})
    assert status == 400 and answer["path"] == "layers.0.units" and "units must be" in answer["error"]


def test_check_a_spec_over_the_servers_limits(service):
    big = Spec(task=Task("circle"), layers=(Dense(512), Dense(512)))
    status, answer = call(service, "POST", "/api/check", {"spec": big.to_dict()})
    assert status == 400 and answer["path"] == "layers" and "the server trains at most 10,000" in answer["error"]


@pytest.mark.parametrize("body, complaint", [(b"{not json", "not JSON"), (b"", "not JSON"),
                                              (b'{"layers": []}', '"spec" field'), (b"[1]", '"spec" field')])
def test_check_a_bad_body(service, body, complaint):
    status, answer = call(service, "POST", "/api/check", body)
    assert status == 400 and complaint in answer["error"]


def test_unknown_methods_and_jobs(service):
    status, answer = call(service, "PUT", "/api/info", b"{}")
    assert status == 405 and answer["error"] == "PUT is not allowed on /api/info; use GET"
    assert call(service, "POST", "/api/jobs", b"{}")[0] == 405
    status, answer = call(service, "GET", "/api/jobs/connect")  # not as a websocket
    assert status == 400 and "is a websocket" in answer["error"]
    for method in ("GET", "DELETE"):
        status, answer = call(service, method, "/api/jobs/job-404")
        assert status == 404 and "no job 'job-404'" in answer["error"]


# --- a job over the websocket ----------------------------------------------------------------

def test_a_job_trains_over_the_websocket(service):
    async def scenario():
        job = await Socket.connect(service)
        ready, _ = await job.until("ready")
        assert ready["where"] == "CPU" and ready["job"].startswith("job-")
        job.send(type="setup", spec=SPEC.to_json())
        message, buffer = await job.until("frame")
        first, _ = decode(buffer)
        job.send(type="ack", count=1)
        job.send(type="play")
        steps, losses = [first["step"]], [first["train_loss"]]
        deadline = time.monotonic() + 30
        while steps[-1] < 300 and time.monotonic() < deadline:
            message, buffer = await job.until("frame")
            assert message["job"] == ready["job"]
            header, _ = decode(buffer)
            steps.append(header["step"])
            losses.append(header["train_loss"])
            job.send(type="ack", count=1)
            if len(steps) == 3:  # the service answers at once while the job trains
                started = time.monotonic()
                assert call(service, "GET", "/api/health", token=None) == (200, {"ok": True, "jobs": 1})
                assert time.monotonic() - started < 1.0
        assert steps == sorted(steps) and steps[-1] >= 300, steps
        assert losses[-1] < 0.7 * losses[0], losses

        listed = call(service, "GET", "/api/jobs")[1]["jobs"]
        assert [entry["id"] for entry in listed] == [ready["job"]] and listed[0]["dataset"] == "circle"

        job.send(type="pause")
        job.send(type="snapshot", id=7)
        snapshot, _ = await job.until("snapshot")
        assert snapshot["id"] == 7 and read_snapshot_text(snapshot["text"]).spec.layers == SPEC.layers

        assert call(service, "DELETE", f"/api/jobs/{ready['job']}") == (200, {"ok": True, "job": ready["job"]})
        ended, _ = await job.until("ended")
        assert ended["reason"] == "cancelled through the training API"
        assert await job.receive() is None  # and the server closes the socket
    run_async(scenario())
    assert wait_until(lambda: not service.runner.jobs(), 2)


def test_bad_messages_are_answered_and_the_job_goes_on(service):
    async def scenario():
        job = await Socket.connect(service, query=True)  # the token in the URL, as a browser sends it
        await job.until("ready")
        job.send(type="setup", spec=SPEC.to_json())
        await job.until("frame")
        for bad, complaint in [("{not json", "not JSON"), ("[1, 2]", "JSON object"), (b"\x00", "binary")]:
            job.connection.write_message(bad, binary=isinstance(bad, bytes))
            failed, _ = await job.until("failed")
            assert failed["request"] is None and complaint in failed["message"]
        job.send(type="snapshot", id=1)
        assert (await job.until("snapshot"))[0]["id"] == 1
        job.connection.close()
    run_async(scenario())


def test_closing_the_websocket_ends_the_job(service):
    async def scenario():
        job = await Socket.connect(service)
        await job.until("ready")
        job.send(type="setup", spec=SPEC.to_json())
        job.send(type="play")
        await job.until("frame")
        assert len(service.runner.jobs()) == 1
        job.connection.close()
        await asyncio.sleep(0.05)
    run_async(scenario())
    assert wait_until(lambda: not service.runner.jobs(), 2)


def test_a_full_server_refuses_with_a_reason(service):
    async def scenario():
        first = await Socket.connect(service)
        await first.until("ready")
        second = await Socket.connect(service)
        ended, _ = await second.receive()
        assert ended["type"] == "ended" and "already training 1 model" in ended["reason"]
        assert await second.receive() is None and second.connection.close_code == 1013
        assert len(service.runner.jobs()) == 1
        first.connection.close()
    run_async(scenario())


# --- the client -----------------------------------------------------------------------------

def next_of(received: queue.Queue, kind: str, job=None, seconds: float = 10.0):
    """The next (message, buffer) of ``kind`` that ``emit`` got, acknowledging frames."""
    deadline = time.monotonic() + seconds
    while True:
        message, buffer = received.get(timeout=max(0.01, deadline - time.monotonic()))
        if message["type"] == kind:
            return message, buffer
        assert message["type"] != "ended", f"the job ended while waiting for {kind!r}: {message}"
        if message["type"] == "frame" and job is not None:
            job.send({"type": "ack", "count": 1})


def test_remote_trainer_end_to_end(service):
    trainer = RemoteTrainer(service.url + "/", TOKEN)
    assert trainer.where == f"CPU at {service.url}"
    assert trainer.info()["limits"]["max_jobs"] == 1
    received = queue.Queue()
    job = trainer.open(lambda message, buffer: received.put((message, buffer)))
    assert job.id == "remote-1" and job.alive
    job.send({"type": "setup", "spec": SPEC.to_json()})  # before the socket is open: it waits
    job.send({"type": "play"})
    ready, _ = next_of(received, "ready")
    assert ready["job"] == job.id and ready["where"] == trainer.where
    steps = []
    while len(steps) < 4:
        message, buffer = next_of(received, "frame", job)
        assert message["job"] == job.id
        steps.append(decode(buffer)[0]["step"])
        job.send({"type": "ack", "count": 1})
    assert steps == sorted(steps) and steps[-1] > steps[0]
    assert [entry["id"] for entry in trainer.jobs()] == [job.server_id]

    job.close("the page closed")
    ended, _ = next_of(received, "ended", job)
    assert ended == {"type": "ended", "reason": "the page closed", "job": job.id}
    assert job.join(1) and not job.alive
    assert wait_until(lambda: not service.runner.jobs(), 2)


def test_remote_trainer_full_server_ends_the_job(service):
    trainer = RemoteTrainer(service.url, TOKEN)
    first, second = queue.Queue(), queue.Queue()
    running = trainer.open(lambda message, buffer: first.put((message, buffer)))
    next_of(first, "ready")
    refused = trainer.open(lambda message, buffer: second.put((message, buffer)))
    ended, _ = second.get(timeout=10)
    assert ended["type"] == "ended" and ended["job"] == refused.id and "already training" in ended["reason"]
    assert refused.join(1)
    trainer.close_all("done")
    assert next_of(first, "ended")[0]["reason"] == "done"
    assert running.join(1) and not trainer._jobs


def test_remote_trainer_reports_a_lost_connection():
    lost = Service(TOKEN)
    trainer = RemoteTrainer(lost.url, TOKEN)
    received = queue.Queue()
    trainer.open(lambda message, buffer: received.put((message, buffer)))
    next_of(received, "ready")
    lost.stop(close_jobs=False)  # the machine goes away without a word
    ended, _ = next_of(received, "ended")
    assert ended["reason"].startswith(f"the training server at {lost.url} closed the connection (connection lost")
    lost.runner.close_all()


def test_remote_trainer_check_spec(service):
    trainer = RemoteTrainer(service.url, TOKEN)
    trainer.check_spec(SPEC)
    with pytest.raises(SpecError, match="trains at most") as refused:
        trainer.check_spec(Spec(task=Task("circle"), layers=(Dense(512), Dense(512))))
    assert refused.value.path == "layers"


def test_remote_trainer_errors(service):
    with pytest.raises(RemoteTrainerError, match="refused the token"):
        RemoteTrainer(service.url, "wrong")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(RemoteTrainerError, match=f"cannot reach the training server at http://127.0.0.1:{closed_port}"):
        RemoteTrainer(f"http://127.0.0.1:{closed_port}", TOKEN, timeout=2)
    with pytest.raises(RemoteTrainerError, match="must start with http"):
        RemoteTrainer("gpu-box:8765", TOKEN)


def test_the_api_and_the_client_import_without_torch():
    """The web machine may have no torch: only the runner needs it."""
    code = "import sys, server.remote, server.trainer_api; assert 'torch' not in sys.modules, 'torch was imported'"
    run = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == 0, run.stderr[-2000:]
