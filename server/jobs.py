"""Training jobs on the server: one ``TorchSession`` per job, each in its own
thread (never on the web server's event loop), under global limits.

A job speaks the browser worker's protocol (see assets/worker.js): it takes
the same messages — setup, play, pause, step, reset, set_weight, views,
select, probe, snapshot, load_snapshot, ack, mode — and answers with the
same ones — ready, frame (with its encoded bytes), probe, snapshot, loaded,
failed — so the page shows a server run exactly as a browser run. It adds
``ended`` when the job stops for good (cancelled, page closed, time limit).

Frames are paced: at most ``frames_per_second``, never more than one
waiting for the page's acknowledgement, and building them takes at most
about a fifth of the job's time, so watching a run costs little next to
training it.
"""
from __future__ import annotations

import itertools
import json
import os
import queue
import threading
import time
from dataclasses import asdict, dataclass

import torch

from playground import frames
from playground.routing import JobRefused, epoch_cost
from playground.snapshot import read_snapshot_text
from playground.spec import Spec, SpecError, plan_layers

from .torch_session import TorchSession, default_device

FRAME_SHARE = 0.2  # the most of a job's time that building frames may take
STEP_CHUNK_SECONDS = 0.05  # training between two looks at the inbox (cancel answers within this)


@dataclass(frozen=True)
class JobLimits:
    max_jobs: int = 2  # jobs open at once, over all pages
    max_seconds: float = 600.0  # training time of one job
    max_parameters: int = 2_000_000
    max_epoch_cost: int = 50_000_000_000  # multiply-adds of one epoch (see playground.routing)
    frames_per_second: float = 20.0
    idle_seconds: float = 1800.0  # a job nobody has touched for this long ends
    threads: int = 0  # torch threads for all jobs together (split between them); 0: the machine's cores

    def to_dict(self) -> dict:
        return asdict(self)


class JobRunner:
    """Starts jobs, counts them against the limits, and lists them."""

    def __init__(self, limits: JobLimits = JobLimits(), device: str | None = None):
        self.limits = limits
        self.device = device or default_device()
        # Each job gets its share of the cores. torch's intra-op threads are set
        # per calling thread, and two pools spinning on the same cores slow
        # both down (measured: a job thread with 2 threads on 2 busy cores
        # ran at half the speed of one with 1).
        total = limits.threads or os.cpu_count() or 1
        self.threads_per_job = max(1, total // max(1, limits.max_jobs))
        torch.set_num_threads(self.threads_per_job)
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    @property
    def where(self) -> str:
        if self.device.startswith("cuda"):
            return f"GPU ({torch.cuda.get_device_name(torch.device(self.device))})"
        return "CPU"

    def info(self) -> dict:
        return {"device": self.device, "where": self.where, "torch": torch.__version__,
                "threads_per_job": self.threads_per_job, "jobs": len(self._jobs), "limits": self.limits.to_dict()}

    def jobs(self) -> list[dict]:
        with self._lock:
            return [job.describe() for job in self._jobs.values()]

    def open(self, emit) -> "Job":
        """A new job that reports through ``emit(message, buffer)`` (called
        from the job's thread). Raises JobRefused when the server is full."""
        with self._lock:
            if len(self._jobs) >= self.limits.max_jobs:
                raise JobRefused(f"the server is already training {_models(len(self._jobs))}, the most it "
                                 f"runs at once; try again in a while, or train a smaller model in the browser")
            job = Job(f"job-{next(self._ids)}", self, emit)
            self._jobs[job.id] = job
        job.start()
        return job

    def get(self, job_id: str) -> "Job | None":
        return self._jobs.get(job_id)

    def _finished(self, job: "Job") -> None:
        with self._lock:
            self._jobs.pop(job.id, None)

    def check_spec(self, spec: Spec) -> None:
        """Refuse a spec over the server's own limits (SpecError names the limit)."""
        parameters = sum(plan.parameter_count for plan in plan_layers(spec))
        if parameters > self.limits.max_parameters:
            raise SpecError(f"this model has {parameters:,} parameters; the server trains at most "
                            f"{self.limits.max_parameters:,}", "layers")
        cost = epoch_cost(spec)
        if cost > self.limits.max_epoch_cost:
            raise SpecError(f"one epoch of this model costs {cost:,} multiply-adds; the server's limit is "
                            f"{self.limits.max_epoch_cost:,}: use fewer examples or a smaller model", "task.samples")

    def close_all(self, reason: str = "the server is stopping") -> None:
        for job in list(self._jobs.values()):
            job.close(reason)


class Job:
    def __init__(self, job_id: str, runner: JobRunner, emit):
        self.id = job_id
        self.runner = runner
        self.limits = runner.limits
        self._emit = emit
        self._inbox: queue.Queue = queue.Queue()
        self.run_tag = None  # the page's tag of the latest change to the run, echoed in every frame
        self._closed = threading.Event()
        self.end_reason = ""
        self.session: TorchSession | None = None
        self.playing = False
        self.in_flight = 0
        self.epochs_per_frame = 1.0
        self.trained_seconds = 0.0
        self.started = time.monotonic()
        self.last_touched = time.monotonic()
        self._last_frame = 0.0
        self._frame_cost = 0.0
        self._steps_since_frame = 0
        self._thread = threading.Thread(target=self._run, name=f"playground {job_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def describe(self) -> dict:
        session = self.session
        return {"id": self.id, "playing": self.playing, "trained_seconds": round(self.trained_seconds, 2),
                "step": session.trainer.step if session else 0,
                "dataset": session.spec.task.dataset if session else None}

    # --- from the outside (any thread) ------------------------------------------------

    def send(self, message: dict) -> None:
        """A message of the worker protocol (a dict with ``type``)."""
        self.last_touched = time.monotonic()
        self._inbox.put(message)

    def close(self, reason: str = "closed") -> None:
        """End the job; its thread stops within a training chunk."""
        if not self._closed.is_set():
            self.end_reason = reason
            self._closed.set()
            self._inbox.put(None)  # wakes the thread if it waits

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # --- the job's thread ----------------------------------------------------------------

    def _run(self) -> None:
        torch.set_num_threads(self.runner.threads_per_job)
        self._send("ready", seconds=0.0, where=self.runner.where)
        try:
            while not self._closed.is_set():
                self._handle_inbox(block=not self._can_train())
                if self._closed.is_set():
                    break
                if self._can_train():
                    self._train_chunk()
                if time.monotonic() - self.last_touched > self.limits.idle_seconds and not self.playing:
                    self.close(f"nobody used it for {self.limits.idle_seconds:.0f} s")
        except Exception as error:  # a fault in the trainer: say so, and end this job only
            self.end_reason = f"the server trainer failed ({type(error).__name__}: {error})"
        finally:
            self.runner._finished(self)
            self._send("ended", reason=self.end_reason or "closed")

    def _can_train(self) -> bool:
        return self.playing and self.session is not None

    def _handle_inbox(self, block: bool, timeout: float = 0.5) -> None:
        try:
            message = self._inbox.get(timeout=max(timeout, 0.001)) if block else self._inbox.get_nowait()
        except queue.Empty:
            return
        while message is not None:
            self._handle(message)
            try:
                message = self._inbox.get_nowait()
            except queue.Empty:
                return

    def _handle(self, message) -> None:
        kind = message.get("type") if isinstance(message, dict) else None
        handler = getattr(self, f"_on_{kind}", None) if isinstance(kind, str) else None
        if handler is None:
            self._send("failed", request=str(kind), message=f"unknown request {kind!r}")
            return
        if self.session is None and kind not in ("setup", "load_snapshot", "play", "pause", "mode", "ack",
                                                  "views", "cancel", "tag"):
            self._send("failed", request=kind, id=message.get("id"),
                       message="the job has no model yet: send its spec first")
            return
        if isinstance(message.get("tag"), int):
            self.run_tag = message["tag"]  # a change to the run (setup, tag): frames say which
        try:
            handler(message)
        except (SpecError, ValueError, KeyError, TypeError, IndexError) as error:
            self.playing = False
            self._send("failed", request=kind, id=message.get("id"), message=_plain(error))

    # The worker protocol's requests.

    def _on_setup(self, message) -> None:
        spec = Spec.from_json(message["spec"])
        self.runner.check_spec(spec)
        if self.session is None:
            self.session = TorchSession(spec, device=self.runner.device)
            if self._views is not None:
                self._on_views(self._views)
        elif message.get("fresh"):
            self.session.restart(spec)
        else:
            self.session.apply_spec(spec)
        self._send_frame()

    _views = None

    def _on_tag(self, message) -> None:
        """The page's tag for the run the job is on already (a loaded snapshot's spec came back)."""
        if self.session is not None:
            self._send_frame()

    def _on_views(self, message) -> None:
        if self.session is None:
            self._views = message  # applied once there is a session
            return
        self.session.set_views(message.get("views", []), message.get("pca_layer"))
        if not self.playing:
            self._send_frame()

    def _on_play(self, message) -> None:
        if self.trained_seconds >= self.limits.max_seconds:
            self._send("failed", request="play", message=self._time_limit_text())
            return
        self.playing = True

    def _on_pause(self, message) -> None:
        was_playing, self.playing = self.playing, False
        if was_playing and self.session is not None and self._steps_since_frame:
            self._send_frame()  # training runs ahead of the frames: show where it stopped

    def _on_step(self, message) -> None:
        started = time.monotonic()
        trainer = self.session.trainer
        for _ in range(-(-len(trainer.x) // trainer.spec.training.batch_size)):  # an epoch's worth
            if self._closed.is_set():
                return
            self.session.train(1)
        self.trained_seconds += time.monotonic() - started
        self._send_frame()

    def _on_set_weight(self, message) -> None:
        self.session.set_weight(int(message["layer"]), str(message["name"]), int(message["index"]),
                                float(message["value"]))
        self._send_frame()

    def _on_ack(self, message) -> None:
        self.in_flight = max(0, self.in_flight - int(message.get("count", 1)))

    def _on_mode(self, message) -> None:
        if message.get("epochsPerFrame") is not None:
            self.epochs_per_frame = float(message["epochsPerFrame"])

    def _on_select(self, message) -> None:
        values = message.get("values")
        self.session.select(message.get("index"), None if values is None else json.loads(values))
        if not self.playing:
            self._send_frame()

    def _on_probe(self, message) -> None:
        name = str(message["name"])
        header, arrays = self.session.probe(name, json.loads(message.get("arguments") or "{}"))
        self._send("probe", frames.encode(dict(header, kind="probe", probe=name), arrays), id=message.get("id"))

    def _on_snapshot(self, message) -> None:
        self._send("snapshot", id=message.get("id"), text=self.session.snapshot().to_json(),
                   step=self.session.trainer.step)

    def _on_load_snapshot(self, message) -> None:
        snapshot = read_snapshot_text(message["text"])
        self.runner.check_spec(snapshot.spec)
        if self.session is None:
            self.session = TorchSession(snapshot.spec.with_weights(None), device=self.runner.device)
        self.session.load_snapshot(snapshot)
        self._send("loaded", id=message.get("id"), spec=self.session.spec.to_json())
        self._send_frame()

    def _on_cancel(self, message) -> None:
        self.close("cancelled")

    # Training and frames.

    def _train_chunk(self) -> None:
        """Steps for about STEP_CHUNK_SECONDS, then a frame if one is due."""
        session = self.session
        trainer = session.trainer
        per_epoch = -(-len(trainer.x) // trainer.spec.training.batch_size)
        cap = max(1, round(self.epochs_per_frame * per_epoch))  # the page's speed setting
        started = time.monotonic()
        while (self._steps_since_frame < cap and time.monotonic() - started < STEP_CHUNK_SECONDS
               and not self._closed.is_set()):
            session.train(1)
            self._steps_since_frame += 1
        self.trained_seconds += time.monotonic() - started
        if self.trained_seconds >= self.limits.max_seconds:
            self.playing = False
            self._send_frame()
            self._send("failed", request="play", message=self._time_limit_text())
            return
        now = time.monotonic()
        interval = max(1.0 / self.limits.frames_per_second, self._frame_cost / FRAME_SHARE)
        wait = interval - (now - self._last_frame)
        if self.in_flight == 0 and wait <= 0:
            self._send_frame()
        elif self._steps_since_frame >= cap:  # the speed's steps are done: wait for the page or the clock
            self._handle_inbox(block=True, timeout=wait if self.in_flight == 0 else 0.5)

    def _send_frame(self) -> None:
        started = time.monotonic()
        buffer = self.session.encoded_frame()
        self._frame_cost = 0.7 * self._frame_cost + 0.3 * (time.monotonic() - started)
        self._last_frame = time.monotonic()
        self._steps_since_frame = 0
        self.in_flight += 1
        self._send("frame", buffer, trainMs=0, frameMs=1000 * self._frame_cost, tag=self.run_tag)

    def _time_limit_text(self) -> str:
        return (f"this run has trained for {self.trained_seconds:.0f} s on the server, the most one job may "
                f"({self.limits.max_seconds:.0f} s); save a snapshot to keep it")

    def _send(self, kind: str, buffer: bytes | None = None, **fields) -> None:
        try:
            self._emit(dict(fields, type=kind, job=self.id), buffer)
        except Exception:  # the page has gone; the job ends with it
            self.close("the page is gone")


def _models(count: int) -> str:
    return f"{count} model{'' if count == 1 else 's'}"


def _plain(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"the request lacks its field {error.args[0]!r}"
    return str(error)
