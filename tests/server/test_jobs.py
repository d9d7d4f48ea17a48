"""Training jobs under the server's limits: each refusal is a clear message,
and the job (or the server) goes on."""
import threading
import time

import pytest

pytest.importorskip("torch")

from playground import frames  # noqa: E402
from playground.routing import JobRefused  # noqa: E402
from playground.spec import Dense, Spec, Task  # noqa: E402
from server.jobs import JobLimits, JobRunner  # noqa: E402

from .test_server_training_page import BIG_CNN  # noqa: E402

SMALL = Spec(task=Task("circle"), layers=(Dense(4), Dense(2)))


class Inbox:
    """What a job said, and a way to wait for it; it acknowledges every
    frame at once, like a page that draws fast."""

    def __init__(self):
        self.messages = []
        self.changed = threading.Condition()
        self.job = None

    def __call__(self, message, buffer):
        if message["type"] == "frame" and self.job is not None:
            self.job.send({"type": "ack", "count": 1})
        with self.changed:
            self.messages.append((message, buffer))
            self.changed.notify_all()

    def wait_for(self, kind, timeout=30.0, where=lambda message: True):
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for message, buffer in self.messages:
                    if message["type"] == kind and where(message):
                        return message, buffer
                left = deadline - time.monotonic()
                assert left > 0, f"no {kind!r} message; got {[m['type'] for m, _ in self.messages]}"
                self.changed.wait(left)

    def frames(self):
        return [frames.decode(buffer) for message, buffer in self.messages if message["type"] == "frame"]


def open_job(runner, spec=SMALL):
    inbox = Inbox()
    job = inbox.job = runner.open(inbox)
    job.send({"type": "setup", "spec": spec.to_json(weights=False)})
    inbox.wait_for("frame")
    return job, inbox


def test_a_job_trains_and_sends_frames_no_faster_than_the_limit():
    runner = JobRunner(JobLimits(max_jobs=1, frames_per_second=5, threads=1))
    job, inbox = open_job(runner)
    job.send({"type": "mode", "epochsPerFrame": 10})
    job.send({"type": "play"})
    time.sleep(2.0)
    job.close("done")
    assert job.join(2)
    sent = inbox.frames()
    print(f"{len(sent)} frames in 2 s at a limit of 5 a second")
    assert 3 <= len(sent) <= 2 * 5 + 2, len(sent)
    steps = [header["step"] for header, _ in sent]
    assert steps == sorted(steps) and steps[-1] > steps[1]
    assert runner.jobs() == []


def test_too_many_jobs_are_refused_and_a_place_frees_when_one_ends():
    runner = JobRunner(JobLimits(max_jobs=1, threads=1))
    job, _ = open_job(runner)
    with pytest.raises(JobRefused, match="already training 1 model, the most it runs at once"):
        runner.open(Inbox())
    job.close("done")
    assert job.join(2)
    other, _ = open_job(runner)
    other.close("done")


def test_an_oversize_spec_is_refused_with_its_numbers():
    runner = JobRunner(JobLimits(max_parameters=10_000, threads=1))
    inbox = Inbox()
    job = runner.open(inbox)
    job.send({"type": "setup", "spec": BIG_CNN.to_json(weights=False)})
    message, _ = inbox.wait_for("failed")
    assert message["request"] == "setup"
    assert "this model has 38,282 parameters; the server trains at most 10,000" in message["message"]
    job.send({"type": "setup", "spec": SMALL.to_json(weights=False)})  # the job is still there
    inbox.wait_for("frame")
    job.close("done")


def test_a_job_past_its_time_limit_stops_and_keeps_its_model():
    runner = JobRunner(JobLimits(max_seconds=0.5, threads=1))
    job, inbox = open_job(runner)
    job.send({"type": "play"})
    message, _ = inbox.wait_for("failed", timeout=20)
    assert "the most one job may (0 s); save a snapshot to keep it" in message["message"].replace("(1 s)", "(0 s)")
    job.send({"type": "snapshot", "id": 7})
    snapshot, _ = inbox.wait_for("snapshot")
    assert '"playground-snapshot"' in snapshot["text"]
    job.send({"type": "play"})
    refusals = lambda: [m for m, _ in inbox.messages if m["type"] == "failed"]  # noqa: E731
    deadline = time.monotonic() + 5
    while len(refusals()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(refusals()) == 2, "playing again is refused too"
    job.close("done")


def test_cancel_stops_a_big_job_within_a_second():
    runner = JobRunner(JobLimits(threads=1))
    job, inbox = open_job(runner, BIG_CNN)
    job.send({"type": "play"})
    while not any(header["step"] > 0 for header, _ in inbox.frames()):
        time.sleep(0.05)
    started = time.monotonic()
    job.send({"type": "cancel"})
    assert job.join(1.0), "the job still runs a second after cancel"
    print(f"cancel took {time.monotonic() - started:.3f} s")
    message, _ = inbox.wait_for("ended")
    assert message["reason"] == "cancelled"


def test_bad_requests_get_clear_answers():
    runner = JobRunner(JobLimits(threads=1))
    inbox = Inbox()
    job = runner.open(inbox)
    job.send({"type": "step"})
    assert "send its spec first" in inbox.wait_for("failed")[0]["message"]
    job.send({"type": "setup", "spec": '{"task": {"dataset": "nope"}}'})
    assert "nope" in inbox.wait_for("failed", where=lambda m: m["request"] == "setup")[0]["message"]
    job.send({"type": "setup", "spec": SMALL.to_json(weights=False)})
    job.send({"type": "set_weight", "layer": 7, "name": "W", "index": 0, "value": 1.0})
    assert "there is no layer 8" in inbox.wait_for("failed", where=lambda m: m["request"] == "set_weight")[0]["message"]
    job.send({"type": "launch"})
    assert "unknown request 'launch'" in inbox.wait_for("failed", where=lambda m: m["request"] == "launch")[0]["message"]
    job.send({"type": "set_weight", "layer": 0})
    assert "lacks its field 'name'" in inbox.wait_for(
        "failed", where=lambda m: m["request"] == "set_weight" and "lacks" in m["message"])[0]["message"]
    job.send({"type": "load_snapshot", "id": 1, "text": "{not json"})
    assert "not valid JSON" in inbox.wait_for("failed", where=lambda m: m["request"] == "load_snapshot")[0]["message"]
    job.close("done")
    assert job.join(2)
