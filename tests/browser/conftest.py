"""Browser tests: the fixtures live in tests/conftest.py (shared with
tests/views); every test here also checks that the server logged no error."""
import pytest

from ..conftest import running_playground  # noqa: F401  (used by the tests here)


@pytest.fixture(autouse=True)
def _server_logs_no_errors(no_server_errors):
    yield
