"""The web server: the Panel page, its assets, the Pyodide files, the
engine bundle, and the REST and websocket endpoints (training, classroom)."""
from __future__ import annotations

import logging
import signal
import socket
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import panel as pn
from tornado.web import RequestHandler

from playground.app.engine_bundle import EngineBundle
from playground.app.network_view import ASSETS
from playground.app.page import TITLE, PageConfig, create_page

from .pyodide_files import check_pyodide, default_destination


class EngineBundleHandler(RequestHandler):
    """GET /engine.zip: the engine's Python sources for the browser worker."""

    def initialize(self, bundle: EngineBundle):
        self.bundle = bundle

    def get(self):
        self.set_header("Content-Type", "application/zip")
        # The URL carries the bundle's version, so the browser may keep it.
        if self.get_argument("v", "") == self.bundle.version:
            self.set_header("Cache-Control", "public, max-age=31536000, immutable")
        else:
            self.set_header("Cache-Control", "no-cache")
        self.write(self.bundle.data)


#: A closed page's session (and so its server job) ends within about this many milliseconds.
SESSION_CHECK_MS = 1000


def make_trainer(server_training: bool = True, trainer_url: str | None = None, trainer_token: str | None = None,
                 limits=None):
    """What trains the models too big for the browser: a remote training
    server when a URL is given, else this server's own job runner — if
    torch is installed — else nothing (the page says so)."""
    if trainer_url:
        from .remote import RemoteTrainer
        return RemoteTrainer(trainer_url, trainer_token or "")
    if not server_training:
        return None
    try:
        import torch  # noqa: F401
    except ImportError:
        print("Note: torch is not installed, so models too big for the browser cannot train here "
              "(pip install -e '.[server]', or --trainer-url to use a training server).", file=sys.stderr)
        return None
    from .jobs import JobLimits, JobRunner
    return JobRunner(limits or JobLimits())


class HealthHandler(RequestHandler):
    """GET /api/health of a web server without a local job runner."""

    def initialize(self, trainer):
        self.trainer = trainer

    def get(self):
        self.set_header("Content-Type", "application/json")
        self.write({"ok": True, "trainer": self.trainer.where if self.trainer is not None else None})


def api_routes(trainer, api_token: str | None) -> list:
    """The training API when this server trains itself (its endpoints need
    ``api_token``; /api/health never does), else just /api/health."""
    try:
        from .jobs import JobRunner
    except ImportError:  # no torch: no local runner
        JobRunner = None
    if JobRunner is not None and isinstance(trainer, JobRunner):
        from .trainer_api import trainer_routes
        return trainer_routes(trainer, api_token)
    return [(r"/api/health", HealthHandler, {"trainer": trainer})]


class _PageWentAway(logging.Filter):
    """Panel writes to a page's websocket without awaiting the write; when
    the page has gone (a closed tab, a dropped network) asyncio reports the
    closed socket with a traceback. A learner leaving is not a server error:
    that report is left out of the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        from tornado.websocket import WebSocketClosedError
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, WebSocketClosedError)


def _quiet_pages_going_away() -> None:
    logger = logging.getLogger("asyncio")
    if not any(isinstance(known, _PageWentAway) for known in logger.filters):
        logger.addFilter(_PageWentAway())


def server_options(pyodide_dir=None, boot_timeout: float = 60.0, static_dirs: dict | None = None, trainer=None,
                   api_token: str | None = None, classroom=None):
    """The page factory and the Tornado options shared by `serve` and the tests.
    ``classroom`` (a ``server.classroom.Classroom``) adds the classroom API."""
    _quiet_pages_going_away()
    pyodide_dir = Path(pyodide_dir) if pyodide_dir else default_destination()
    problems = check_pyodide(pyodide_dir) if pyodide_dir.is_dir() else [f"{pyodide_dir} does not exist"]
    if problems:
        print("Warning: the in-browser engine cannot start until the Pyodide files are in place "
              f"({'; '.join(problems[:3])}). Run: playground pyodide fetch", file=sys.stderr, flush=True)
        pyodide_dir.mkdir(parents=True, exist_ok=True)
    bundle = EngineBundle.build()
    config = PageConfig(bundle_url=f"engine.zip?v={bundle.version}", boot_timeout=boot_timeout)
    options = {
        "static_dirs": {"assets": str(ASSETS), "pyodide": str(pyodide_dir), **(static_dirs or {})},
        "extra_patterns": [(r"/engine\.zip", EngineBundleHandler, {"bundle": bundle}),
                           *api_routes(trainer, api_token), *classroom_api(classroom)],
        # Sessions of closed pages end soon, and their server jobs with them.
        "check_unused_sessions_milliseconds": SESSION_CHECK_MS,
        "unused_session_lifetime_milliseconds": SESSION_CHECK_MS,
    }

    def page():  # Panel calls a plain function once per session (a partial it would render)
        return create_page(config, trainer, classroom)

    return page, options


def classroom_api(classroom) -> list:
    """The classroom API's routes, or none without a classroom."""
    if classroom is None:
        return []
    from playground.lessons import current_lessons

    from .classroom.api import classroom_routes
    from .classroom.pages import page_routes
    return classroom_routes(classroom) + page_routes(current_lessons)


def open_classroom(database: str | None = None, hours: float = 12.0):
    """The classroom on ``database`` (a SQLAlchemy URL or a SQLite file's
    path; default: a file in the user's data folder)."""
    from .classroom import Classroom
    from .classroom.store import database_url, default_database_url
    return Classroom(database_url(database) if database else default_database_url(), hours=hours)


def serve(host: str, port: int, *, show: bool = False, pyodide_dir=None, boot_timeout: float = 60.0,
          server_training: bool = True, trainer_url: str | None = None, trainer_token: str | None = None,
          api_token: str | None = None, classroom=None) -> None:
    """``playground serve`` until Ctrl+C or SIGTERM; then the classroom
    (if any) writes what it holds in memory and closes."""
    trainer = make_trainer(server_training, trainer_url, trainer_token)
    if trainer is not None:
        print(f"Models too big for the browser train on: {trainer.where}", flush=True)
    page, options = server_options(pyodide_dir, boot_timeout, trainer=trainer, api_token=api_token,
                                   classroom=classroom)
    origins = [f"{name}:{port}" for name in {host, "localhost", "127.0.0.1"}]
    if classroom is not None:
        print(f"Classroom sessions are kept in {_shown_url(classroom.store.url)}", flush=True)
    print(f"Serving the playground at http://{host}:{port}/ (Ctrl+C stops it)", flush=True)
    # A service manager stops a server with SIGTERM: leave through the same
    # path as Ctrl+C, so that the classroom's last summaries are written.
    try:
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    except ValueError:  # not the main thread: the caller handles signals
        previous = None
    try:
        pn.serve({"/": page}, address=host, port=port, show=show, title=TITLE, websocket_origin=origins,
                 threaded=False, **options)
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if classroom is not None:
            classroom.close()


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _shown_url(url: str) -> str:
    """A database URL without its password, for the console."""
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def serve_in_thread(pyodide_dir=None, boot_timeout: float = 60.0, static_dirs: dict | None = None,
                    extra_patterns=(), trainer=None, classroom=None):
    """The app as `playground serve` runs it, in a thread on a free loopback
    port (for tests and benchmarks); yields the page's URL. The caller owns
    ``classroom`` and closes it."""
    page, options = server_options(pyodide_dir, boot_timeout, static_dirs, trainer=trainer, classroom=classroom)
    options["extra_patterns"] += list(extra_patterns)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    thread = pn.serve({"/": page}, address="127.0.0.1", port=port, show=False, threaded=True,
                      websocket_origin=[f"127.0.0.1:{port}"], **options)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                thread.stop()
                raise
            time.sleep(0.2)
    try:
        yield url
    finally:
        thread.stop()
