"""Server-trainer benchmark: prints its figures and writes them as JSON.

For each workload, training steps/s of
- the plain torch loop: the same network, optimiser and batches, nothing else;
- a server job as a page sees it: frames at up to 20 a second, each
  acknowledged as soon as it comes (a page that draws instantly);
and their ratio, the cost of watching. Also the latency of the health
endpoint while jobs train (p50, p99), which says whether the web server
stays responsive. Runs on CUDA when torch sees a GPU, else on the CPU.
"""
from __future__ import annotations

import json
import platform
import statistics
import time
import urllib.request
from pathlib import Path

import torch

from playground.spec import Spec

from .jobs import JobLimits, JobRunner
from .torch_model import loss as torch_loss
from .torch_session import TorchSession, default_device

WORKLOADS = {
    "digits CNN (16 and 32 filters, 8×8 digits)": {
        "task": {"dataset": "digits"},
        "layers": [{"type": "conv2d", "filters": 16, "kernel": 3, "padding": "same", "activation": "relu"},
                   {"type": "conv2d", "filters": 32, "kernel": 3, "padding": "same", "activation": "relu"},
                   {"type": "maxpool", "size": 2}, {"type": "flatten"},
                   {"type": "dense", "units": 64, "activation": "relu"}],
        "training": {"optimizer": "adam", "learning_rate": 0.003, "batch_size": 64},
    },
    "text LSTM (64 units, 32 characters)": {
        "task": {"dataset": "text", "options": {"length": 32}},
        "layers": [{"type": "lstm", "units": 64, "return_sequences": True}],
        "training": {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 64},
    },
    "classic MLP (6 × 8 tanh)": {
        "task": {"dataset": "spiral", "features": ["x1", "x2", "x1_squared", "x2_squared", "x1_x2", "sin_x1",
                                                   "sin_x2"]},
        "layers": [{"type": "dense", "units": 8, "activation": "tanh"}] * 6,
        "training": {"batch_size": 10, "learning_rate": 0.03},
    },
}


def plain_loop_rate(spec: Spec, device: str, seconds: float) -> float:
    """Steps/s of the bare torch loop on the same batches as a job."""
    session = TorchSession(spec, device=device)
    net, optimizer, tensors = session.net, session.torch_optimizer, session._data_tensors
    trainer = session.trainer

    def step():
        batch = torch.as_tensor(trainer.next_batch(), device=session.device)
        optimizer.zero_grad()
        torch_loss(net, net(tensors["x"][batch]), tensors["target"][batch]).backward()
        optimizer.step()

    for _ in range(5):
        step()
    _synchronise(device)
    steps, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(10):
            step()
        steps += 10
    _synchronise(device)
    return steps / (time.perf_counter() - started)


class FastPage:
    """A page that takes every frame at once: it acknowledges it and notes its size."""

    def __init__(self):
        self.job = None
        self.frames = []

    def __call__(self, message, buffer):
        if message["type"] == "frame":
            self.frames.append(len(buffer))
            if self.job is not None:
                self.job.send({"type": "ack", "count": 1})

    def open(self, runner: JobRunner, spec: Spec):
        self.job = runner.open(self)
        self.job.send({"type": "setup", "spec": spec.to_json(weights=False)})
        self.job.send({"type": "mode", "epochsPerFrame": 1e9})  # no per-frame cap: as fast as it trains
        return self.job


def job_rate(spec: Spec, runner: JobRunner, seconds: float) -> dict:
    """Steps/s and frames/s of a job at full speed, every frame acknowledged at once."""
    page = FastPage()
    job = page.open(runner, spec)
    frames = page.frames
    while not frames:
        time.sleep(0.01)
    job.send({"type": "play"})
    time.sleep(1.0)  # warm up
    first_step, started, first_frames = job.describe()["step"], time.perf_counter(), len(frames)
    time.sleep(seconds)
    steps = job.describe()["step"] - first_step
    elapsed = time.perf_counter() - started
    sent = frames[first_frames:]
    job.close("benchmark done")
    job.join(5)
    return {"steps_per_second": steps / elapsed, "frames_per_second": len(sent) / elapsed,
            "frame_kilobytes": round(statistics.mean(sent) / 1024, 1) if sent else 0}


def health_latency(runner: JobRunner, seconds: float) -> dict:
    """The web server's /api/health latency while two jobs train."""
    from .web import serve_in_thread
    spec = Spec.from_dict(next(iter(WORKLOADS.values())))
    jobs = []
    with serve_in_thread(trainer=runner) as url:
        for _ in range(2):
            job = FastPage().open(runner, spec)
            job.send({"type": "play"})
            jobs.append(job)
        time.sleep(1.0)
        latencies, started = [], time.perf_counter()
        while time.perf_counter() - started < seconds:
            begin = time.perf_counter()
            with urllib.request.urlopen(url + "api/health", timeout=10) as response:
                response.read()
            latencies.append(1000 * (time.perf_counter() - begin))
            time.sleep(0.02)
        steps = [job.describe()["step"] for job in jobs]
        for job in jobs:
            job.close("benchmark done")
        for job in jobs:
            job.join(10)
    latencies.sort()
    return {"requests": len(latencies), "p50_ms": _percentile(latencies, 50), "p99_ms": _percentile(latencies, 99),
            "max_ms": latencies[-1], "jobs": len(jobs), "job_steps": steps}


def _percentile(values, percent) -> float:
    index = min(len(values) - 1, max(0, round(percent / 100 * (len(values) - 1))))
    return round(values[index], 2)


def _synchronise(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run_server_benchmark(out: str, seconds: float = 5.0, device: str | None = None) -> dict:
    device = device or default_device()
    runner = JobRunner(JobLimits(max_jobs=4), device=device)
    results = {"device": runner.where, "torch": torch.__version__, "threads": torch.get_num_threads(),
               "python": platform.python_version(), "machine": platform.machine(), "seconds": seconds,
               "workloads": {}}
    print(f"Server trainer on {runner.where} (torch {torch.__version__}, {torch.get_num_threads()} threads)")
    for name, raw in WORKLOADS.items():
        spec = Spec.from_dict(raw)
        plain = plain_loop_rate(spec, device, seconds)
        watched = job_rate(spec, runner, seconds)
        ratio = watched["steps_per_second"] / plain
        results["workloads"][name] = {"plain_steps_per_second": round(plain, 1),
                                      "job_steps_per_second": round(watched["steps_per_second"], 1),
                                      "frames_per_second": round(watched["frames_per_second"], 1),
                                      "frame_kilobytes": watched["frame_kilobytes"],
                                      "job_over_plain": round(ratio, 3)}
        print(f"  {name}: plain loop {plain:,.0f} steps/s; job with frames {watched['steps_per_second']:,.0f} "
              f"steps/s at {watched['frames_per_second']:.1f} frames/s ({watched['frame_kilobytes']} KB each); "
              f"ratio {ratio:.2f}")
    health = health_latency(runner, seconds)
    results["health_while_training"] = health
    print(f"  /api/health while {health['jobs']} jobs train: p50 {health['p50_ms']} ms, p99 {health['p99_ms']} ms, "
          f"max {health['max_ms']:.1f} ms over {health['requests']} requests")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(results, indent=2))
    print(f"Written to {out}")
    return results
