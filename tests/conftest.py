"""Shared test fixtures: where the repository, Pyodide and Node are."""
import logging
import os
import shutil
from pathlib import Path

# The engine's small matrices run slower with OpenBLAS's threads fighting
# the browser and server threads for two cores (about 7× under load); the
# browser engine is single-threaded anyway. Set before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
PYODIDE_FILES = ("pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")


def _missing(reason: str):
    """In CI a missing runtime is a failure, on a developer's machine a skip."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pyodide_dir() -> Path:
    """The pinned Pyodide 0.27.7 files: $PLAYGROUND_PYODIDE_DIR, the app's
    static/pyodide mirror, or ../shared/pyodide/0.27.7 beside the checkout."""
    candidates = [os.environ.get("PLAYGROUND_PYODIDE_DIR"), REPO / "static" / "pyodide",
                  REPO.parent / "shared" / "pyodide" / "0.27.7"]
    for candidate in candidates:
        if candidate and all((Path(candidate) / name).is_file() for name in PYODIDE_FILES):
            return Path(candidate)
    _missing("no Pyodide 0.27.7 files: set PLAYGROUND_PYODIDE_DIR or put them in ../shared/pyodide/0.27.7")


@pytest.fixture(scope="session")
def node() -> str:
    path = shutil.which("node")
    if not path:
        _missing("Node.js is not installed (apt-get install -y nodejs)")
    return path


# --- the browser: Debian's Chromium through Playwright, against the real app
# served in this process (so that tests can also watch what the server does),
# with the Pyodide files from the local mirror. One set of fixtures for
# tests/browser and tests/views: one Playwright per session.

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def running_playground(pyodide_dir, boot_timeout: float = 60.0):
    """The app as `playground serve` runs it, on a free loopback port."""
    from server.web import serve_in_thread
    return serve_in_thread(pyodide_dir, boot_timeout)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("PLAYGROUND_CHROMIUM") or shutil.which("chromium")
    if not path:
        _missing("Chromium is not installed (apt-get install -y chromium)")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def app_url(pyodide_dir):
    with running_playground(pyodide_dir) as url:
        yield url


class _ServerErrors(logging.Handler):
    """Errors the in-process server logs (a failing callback, say)."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(self.format(record))


@pytest.fixture
def no_server_errors():
    """Whatever a learner does, the server logs no error (the browser test
    packages turn this on for each of their tests)."""
    handler = _ServerErrors()
    logging.getLogger().addHandler(handler)
    yield
    logging.getLogger().removeHandler(handler)
    assert not handler.records, "the server logged errors:\n" + "\n".join(handler.records)


@pytest.fixture
def new_page(browser):
    """Pages in fresh browser contexts (separate caches, storage, downloads);
    a script error on any of them fails the test."""
    contexts, errors = [], []

    def open_page(url: str, **context_options):
        context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True,
                                      **context_options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"script errors on the page: {errors}"
