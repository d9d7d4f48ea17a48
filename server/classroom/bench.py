"""``playground bench classroom``: many simulated students against a real
server, and how fresh the instructor's feed is.

The server runs as ``playground serve`` in a subprocess, on a temporary
SQLite file, so that its CPU time and memory can be read from /proc and the
client's work is not counted. Over HTTP: one session, N students joined.
Then, in one asyncio loop, N student websockets each send a summary (with a
16×16 thumbnail) ``rate`` times a second, stamped with ``sent =
time.time()``, while one instructor websocket notes, for every student
entry in every roster message, ``arrival - sent``: the age of the newest
summary when the instructor sees it. The roster is batched (one message per
250 ms at most), so about half of that batching shows up in the median.

Client and server share the machine (and on a 2-core box, its cores): the
figures are for one machine holding both, an upper bound for a real class
whose students are elsewhere.
"""
from __future__ import annotations

import asyncio
import json
import math
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
THUMBNAIL_SIDE = 16


# --- the server in a subprocess ------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """``playground serve`` in a subprocess on a free port, with its
    classroom on ``database``; its output goes to ``log`` (a path)."""

    def __init__(self, database: str, folder, port: int | None = None, extra_args=()):
        self.database, self.folder = database, Path(folder)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_args = list(extra_args)
        self.process: subprocess.Popen | None = None
        self.log = self.folder / f"server-{self.port}.log"

    def start(self, timeout: float = 60.0) -> "ServerProcess":
        command = [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--classroom-db", self.database, "--no-server-training",
                   "--pyodide-dir", str(self.folder / "pyodide"), *self.extra_args]
        environment = dict(os.environ, PYTHONUNBUFFERED="1")
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=environment)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode} while starting:\n"
                                   f"{self.log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(self.url + "/api/health", timeout=2).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the server did not answer within {timeout} s:\n{self.log.read_text()[-3000:]}") from None
                time.sleep(0.1)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (as a service manager stops it), then wait; SIGKILL if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise RuntimeError(f"the server did not stop within {timeout} s of SIGTERM") from None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- what it costs -------------------------------------------------------------------------

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (/proc/<pid>/stat)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime

    def memory_mb(self) -> dict:
        """Resident memory now and at its peak (/proc/<pid>/status), in MB."""
        values = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) / 1024  # kB
        return {"rss_mb": round(values.get("VmRSS", 0), 1), "peak_rss_mb": round(values.get("VmHWM", 0), 1)}


def call(method: str, url: str, body=None, token: str | None = None, timeout: float = 30.0):
    """One JSON request: (status, parsed body)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


# --- simulated class -----------------------------------------------------------------------

def fake_summary(step: int, rng: random.Random) -> dict:
    loss = 0.7 * math.exp(-step / 2000) + 0.02 + rng.random() * 0.01
    return {"step": step, "epoch": round(step / 25, 4), "train_loss": loss * 0.9, "test_loss": loss,
            "train_accuracy": min(1.0, 1.05 - loss), "test_accuracy": min(1.0, 1.0 - loss),
            "gradient_norms": [rng.random(), rng.random(), rng.random()], "diverged": False, "trains_on": "browser"}


def fake_thumbnails(side: int, count: int = 24) -> list[str]:
    """A few decision surfaces as JSON text, made once: the client's own work
    must stay small next to the server's, since both share the machine."""
    return [json.dumps([round(math.tanh(math.sin(i / 3 + k / 4) + math.cos(j / 4)), 2)
                        for i in range(side) for j in range(side)]) for k in range(count)]


async def simulate(base_url: str, instructor_token: str, student_tokens: list, seconds: float, rate: float,
                   thumbnail_side: int = THUMBNAIL_SIDE, on_start=None) -> dict:
    """Students send for ``seconds``; returns what the instructor's feed saw."""
    from tornado.websocket import websocket_connect

    ws_url = base_url.replace("http://", "ws://") + "/api/classroom/live?token="
    feed = {"latencies": [], "messages": 0, "updates": 0, "seen": {}, "last_sent": {}, "errors": []}
    stop = asyncio.Event()

    instructor = await websocket_connect(ws_url + instructor_token, max_message_size=256 * 1024 * 1024)

    async def watch():
        while True:
            text = await instructor.read_message()
            if text is None:
                return
            arrival = time.time()
            message = json.loads(text)
            if message.get("type") != "roster":
                continue
            if feed.get("start") and arrival >= feed["start"] and "end" not in feed:
                feed["messages"] += 1
            for entry in message["students"]:
                sent = (entry.get("summary") or {}).get("sent")
                if sent is None or sent == feed["last_sent"].get(entry["id"]):
                    continue
                feed["last_sent"][entry["id"]] = sent
                feed["updates"] += 1
                if sent >= feed["start"]:
                    feed["latencies"].append(arrival - sent)
                    feed["seen"].setdefault(entry["id"], []).append(arrival - feed["start"])

    gate = asyncio.Semaphore(50)

    async def connect(token):
        async with gate:
            socket_ = await websocket_connect(ws_url + token, max_message_size=64 * 1024 * 1024)
            first = json.loads(await socket_.read_message())  # the state message: subscribed, online
            assert first["type"] == "state", first
            return socket_

    students = await asyncio.gather(*(connect(token) for token in student_tokens))

    async def drain(socket_):  # state messages (and errors) the students get
        while (text := await socket_.read_message()) is not None:
            message = json.loads(text)
            if message.get("type") == "error":
                feed["errors"].append(message["error"])

    thumbnails = fake_thumbnails(thumbnail_side) if thumbnail_side else ["null"]

    async def send(index, socket_):
        rng = random.Random(index)
        await asyncio.sleep(rng.random() / rate)  # spread the class over the interval
        step, interval = 0, 1 / rate
        next_at = time.monotonic()
        while not stop.is_set():
            step += 25
            thumbnail = thumbnails[(step // 25 + index) % len(thumbnails)]
            await socket_.write_message(f'{{"type":"summary","summary":{json.dumps(fake_summary(step, rng))},'
                                        f'"thumbnail":{thumbnail},"sent":{time.time()!r}}}')
            feed["sent"] = feed.get("sent", 0) + 1
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    watcher = asyncio.ensure_future(watch())
    drains = [asyncio.ensure_future(drain(s)) for s in students]
    feed["start"] = time.time()
    if on_start:
        on_start()
    senders = [asyncio.ensure_future(send(i, s)) for i, s in enumerate(students)]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*senders)
    feed["end"] = time.time()
    await asyncio.sleep(0.6)  # the last batches
    for socket_ in students:
        socket_.close()
    instructor.close()
    await asyncio.gather(watcher, *drains, return_exceptions=True)
    return feed


def _load_average() -> float | None:
    """The machine's 1-minute load average: other work on the box shows in the latency."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _percentile(values, percent) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(percent / 100 * (len(ordered) - 1))))
    return ordered[index]


def measure(students: int = 200, seconds: float = 10.0, rate: float = 5.0, thumbnail_side: int = THUMBNAIL_SIDE,
            folder=None) -> dict:
    """Start a server, fill a class, run the simulation; the figures as a dict."""
    with tempfile.TemporaryDirectory(prefix="classroom-bench-") as scratch:
        folder = Path(folder or scratch)
        server = ServerProcess(f"sqlite:///{folder / 'classroom.sqlite3'}", folder).start()
        try:
            status, created = call("POST", server.url + "/api/classroom/sessions",
                                   {"title": "Benchmark", "lesson": None})
            if status != 201:
                raise RuntimeError(f"creating a session failed: {status} {created}")
            tokens = []
            started = time.perf_counter()
            for number in range(students):
                status, joined = call("POST", server.url + "/api/classroom/join",
                                      {"code": created["code"], "name": f"Student {number + 1}"})
                if status != 201:
                    raise RuntimeError(f"joining student {number + 1} failed: {status} {joined}")
                tokens.append(joined["student_token"])
            join_seconds = time.perf_counter() - started
            marks = {}

            def on_start():
                marks["cpu"], marks["wall"] = server.cpu_seconds(), time.perf_counter()
                marks["client"] = time.process_time()

            feed = asyncio.run(simulate(server.url, created["instructor_token"], tokens, seconds, rate,
                                        thumbnail_side, on_start))
            cpu = server.cpu_seconds() - marks["cpu"]
            client_cpu = time.process_time() - marks["client"]
            wall = time.perf_counter() - marks["wall"]
            memory = server.memory_mb()
        finally:
            server.stop()
    span = feed["end"] - feed["start"]
    latencies = [1000 * value for value in feed["latencies"]]
    last_half = {student for student, times in feed["seen"].items() if any(t > span / 2 for t in times)}
    return {
        "students": students, "rate_per_student": rate, "seconds": round(span, 2), "thumbnail": thumbnail_side,
        "summaries_sent": feed.get("sent", 0), "summaries_per_second": round(feed.get("sent", 0) / span, 1),
        "roster_messages": feed["messages"], "roster_messages_per_second": round(feed["messages"] / span, 2),
        "student_updates_in_feed": len(latencies),
        "latency_ms": {"p50": round(_percentile(latencies, 50), 1), "p99": round(_percentile(latencies, 99), 1),
                       "max": round(max(latencies), 1) if latencies else None},
        "students_in_feed": len(feed["seen"]), "students_in_feed_second_half": len(last_half),
        "server_cpu_percent": round(100 * cpu / wall, 1), **memory,
        "client_cpu_percent": round(100 * client_cpu / wall, 1), "machine_load": _load_average(),
        "join_seconds": round(join_seconds, 2), "errors": feed["errors"][:10],
    }


def run_classroom_benchmark(out: str, students: int = 200, seconds: float = 10.0, rate: float = 5.0) -> dict:
    print(f"Classroom: {students} students × {rate:g} summaries/s for {seconds:g} s against `playground serve` "
          f"(SQLite), one instructor feed", flush=True)
    figures = measure(students, seconds, rate)
    results = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
               **figures}
    latency = figures["latency_ms"]
    print(f"  summaries: {figures['summaries_per_second']:,.0f}/s sent; instructor feed: "
          f"{figures['roster_messages_per_second']:.1f} roster messages/s, {figures['students_in_feed']} of "
          f"{students} students seen")
    print(f"  latency summary → instructor feed: p50 {latency['p50']} ms, p99 {latency['p99']} ms, "
          f"max {latency['max']} ms over {figures['student_updates_in_feed']:,} updates")
    print(f"  server process: CPU {figures['server_cpu_percent']} % of one core, RSS {figures['rss_mb']} MB "
          f"(peak {figures['peak_rss_mb']} MB); the simulated class used {figures['client_cpu_percent']} % "
          f"(machine load average {figures['machine_load']})")
    if figures["errors"]:
        print(f"  errors the server sent: {figures['errors']}")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(results, indent=2))
    print(f"Written to {out}")
    return results
