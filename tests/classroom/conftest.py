"""Fixtures for the classroom tests: classrooms on real SQLite files, the
real web server (``serve_in_thread``) with a classroom, a settable clock for
expiry, JSON requests and websocket clients."""
from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest

from playground.lessons import LESSON_START
from server.classroom import Classroom, ClassroomLimits

#: A lesson that ships with the app (its first steps are used below).
LESSON = "hidden-layers-xor"
#: Generous for creation (many tests make sessions from 127.0.0.1); join failures as in production.
TEST_LIMITS = ClassroomLimits(sessions_per_hour=100_000)


class Clock:
    """Real time plus an offset a test may move forward (for expiry)."""

    def __init__(self):
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def clock():
    return Clock()


#: The service tests run on SQLite, and also on PostgreSQL when this names an
#: empty database (postgresql+psycopg://user@host:port/db; its tables are dropped after each test).
POSTGRES_URL = os.environ.get("PLAYGROUND_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite"] + (["postgresql"] if POSTGRES_URL else []))
def database(request, tmp_path):
    """A database URL for one test: a SQLite file in tmp_path, or the test PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'classroom.sqlite3'}"
        return
    import sqlalchemy as sa

    from server.classroom.store import metadata
    yield POSTGRES_URL
    engine = sa.create_engine(POSTGRES_URL)
    metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture
def make_classroom(database, clock):
    """Classrooms on one database (the same each time: a second one after
    closing the first is a restart); all closed at the end."""
    made = []

    def make(**options) -> Classroom:
        options.setdefault("limits", TEST_LIMITS)
        options.setdefault("clock", clock)
        classroom = Classroom(database, **options)
        made.append(classroom)
        return classroom

    yield make
    for classroom in made:
        classroom.close()


@pytest.fixture(scope="session")
def snapshot_text() -> str:
    """A real snapshot file's text, as the page's Save snapshot makes it."""
    from playground.session import TrainingSession

    session = TrainingSession(LESSON_START)
    session.train(10)
    return session.snapshot().to_json()


# --- the server ---------------------------------------------------------------------------------

@dataclass
class Served:
    url: str  # http://127.0.0.1:PORT, no trailing slash
    classroom: Classroom
    clock: Clock

    def call(self, method: str, path: str, body=None, token: str | None = None, raw_body: bytes | None = None,
             headers: dict | None = None):
        """(status, JSON body or text, headers) of one request."""
        data = raw_body if raw_body is not None else None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text, got = response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            status, text, got = error.code, error.read().decode(), error.headers
        try:
            return status, json.loads(text), got
        except ValueError:
            return status, text, got

    def session(self, title="Period 3", lesson=LESSON) -> dict:
        status, body, _ = self.call("POST", "/api/classroom/sessions", {"title": title, "lesson": lesson})
        assert status == 201, body
        return body

    def join(self, code: str, name: str) -> dict:
        status, body, _ = self.call("POST", "/api/classroom/join", {"code": code, "name": name})
        assert status == 201, body
        return body

    def ws_url(self, token: str) -> str:
        return self.url.replace("http://", "ws://") + "/api/classroom/live?token=" + token


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The web server as `playground serve` runs it, with a classroom on a
    SQLite file; shared by a module's tests (each makes its own sessions)."""
    from server.web import serve_in_thread

    folder = tmp_path_factory.mktemp("classroom-server")
    clock = Clock()
    classroom = Classroom(f"sqlite:///{folder / 'classroom.sqlite3'}", limits=TEST_LIMITS, clock=clock)
    try:
        with serve_in_thread(folder / "pyodide", classroom=classroom) as url:
            yield Served(url.rstrip("/"), classroom, clock)
    finally:
        classroom.close()


# --- websockets ---------------------------------------------------------------------------------

class Socket:
    """A real websocket client (Tornado's) with reads that time out."""

    def __init__(self, connection):
        self.connection = connection

    @classmethod
    async def open(cls, url: str) -> "Socket":
        from tornado.websocket import websocket_connect
        return cls(await asyncio.wait_for(websocket_connect(url), 10))

    async def receive(self, timeout: float = 10.0) -> dict | None:
        text = await asyncio.wait_for(self.connection.read_message(), timeout)
        return None if text is None else json.loads(text)

    async def receive_until(self, predicate, timeout: float = 10.0) -> dict:
        """The first message for which ``predicate`` holds (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            message = await self.receive(max(0.01, deadline - time.monotonic()))
            if message is None:
                raise AssertionError("the socket closed before the expected message")
            if predicate(message):
                return message

    async def send(self, message: dict) -> None:
        await self.connection.write_message(json.dumps(message))

    def close(self) -> None:
        self.connection.close()


def run(coroutine):
    """Run a coroutine to its end in a thread of its own: in a full test run
    Playwright keeps an event loop running in the main thread."""
    return in_thread(asyncio.run, coroutine)


def in_thread(function, *args):
    """``function(*args)`` in a fresh thread; its result, or its exception raised here."""
    outcome = {}

    def target():
        try:
            outcome["value"] = function(*args)
        except BaseException as error:  # handed back to the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
