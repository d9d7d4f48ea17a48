"""The views' browser tests use the browser tests' fixtures: real Chromium,
the real app in this process, the Pyodide files from the local mirror."""
from ..browser.conftest import app_url, browser, chromium_path, new_page, no_server_errors  # noqa: F401
