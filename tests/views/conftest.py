"""The views' browser tests use the fixtures of tests/conftest.py (real
Chromium, the real app in this process, the Pyodide files from the local
mirror); every test here also checks that the server logged no error."""
import pytest


@pytest.fixture(autouse=True)
def _server_logs_no_errors(no_server_errors):
    yield
