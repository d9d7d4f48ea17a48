"""The web server sends its jobs to a training server on another machine
(here: another port), and stays responsive while jobs train."""
import statistics
import time
import urllib.request

import pytest

from server.remote import RemoteTrainer
from server.server_bench import FastPage
from server.web import serve_in_thread

from ..browser.learner import link, pause, step, train, wait_for_engine, wait_until
from .test_server_training_page import BIG_CNN
from .test_trainer_api import TOKEN, Service

pytestmark = pytest.mark.usefixtures("no_server_errors")


@pytest.fixture(scope="module")
def remote_app(pyodide_dir):
    from server.jobs import JobLimits
    service = Service(TOKEN, JobLimits(max_jobs=2, threads=1))
    trainer = RemoteTrainer(service.url, TOKEN)
    with serve_in_thread(pyodide_dir, trainer=trainer) as url:
        yield url, service
    trainer.close_all("the test is over")
    service.stop()


def test_a_page_trains_on_a_remote_training_server(remote_app, new_page):
    url, service = remote_app
    page = new_page(link(url, BIG_CNN))
    where = page.locator("[data-role=where]")
    wait_until(page, lambda: where.text_content() == f"On the server (CPU at {service.url})", 30,
               "the page names the training server")
    wait_for_engine(page)
    train(page)
    wait_until(page, lambda: step(page) >= 60, 120, "the remote server trains")
    pause(page)
    jobs = service.runner.jobs()
    assert len(jobs) == 1 and jobs[0]["step"] == step(page)
    page.close()
    wait_until_jobs = time.monotonic() + 10
    while service.runner.jobs() and time.monotonic() < wait_until_jobs:
        time.sleep(0.05)
    assert service.runner.jobs() == [], "closing the page ends the remote job"


def test_the_server_stays_responsive_while_jobs_train(server_app):
    url, runner = server_app
    jobs = [FastPage().open(runner, BIG_CNN) for _ in range(2)]
    for job in jobs:
        job.send({"type": "play"})
    time.sleep(1.0)
    before = [job.describe()["step"] for job in jobs]
    latencies = []
    started = time.monotonic()
    while time.monotonic() - started < 4.0:
        begin = time.perf_counter()
        with urllib.request.urlopen(url + "api/health", timeout=5) as response:
            assert response.status == 200
            assert b'"ok": true' in response.read()
        latencies.append(1000 * (time.perf_counter() - begin))
        time.sleep(0.02)
    after = [job.describe()["step"] for job in jobs]
    for job in jobs:
        job.close("the test is over")
        assert job.join(2)
    latencies.sort()
    print(f"/api/health while 2 jobs train: {len(latencies)} requests, p50 {statistics.median(latencies):.1f} ms, "
          f"p99 {latencies[int(0.99 * (len(latencies) - 1))]:.1f} ms")
    assert all(b > a for a, b in zip(before, after)), "both jobs trained meanwhile"
