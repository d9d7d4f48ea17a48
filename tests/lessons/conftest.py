"""Lesson pages: the app as `playground serve` runs it, with its own server
trainer, since one lesson trains a model too big for the browser."""
import pytest


@pytest.fixture(scope="module")
def lesson_app_url(pyodide_dir):
    pytest.importorskip("torch")
    from server.jobs import JobLimits, JobRunner
    from server.web import serve_in_thread
    runner = JobRunner(JobLimits(max_jobs=2, max_seconds=600, threads=1))
    try:
        with serve_in_thread(pyodide_dir, trainer=runner) as url:
            yield url
    finally:
        runner.close_all()
