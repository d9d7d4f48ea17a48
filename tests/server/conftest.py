"""Server tests: the app served with its own torch job runner (small limits,
so that the limits themselves can be tested), and browser pages on it."""
import pytest

from ..conftest import running_playground  # noqa: F401

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def job_runner():
    from server.jobs import JobLimits, JobRunner
    runner = JobRunner(JobLimits(max_jobs=2, max_seconds=120, threads=1))
    yield runner
    runner.close_all()


@pytest.fixture(scope="module")
def server_app(pyodide_dir, job_runner):
    """(page URL, runner): the app with server training."""
    from server.web import serve_in_thread
    with serve_in_thread(pyodide_dir, trainer=job_runner) as url:
        yield url, job_runner
