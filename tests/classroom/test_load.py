"""A bounded load test: 200 simulated students send five summaries a second
for about five seconds to `playground serve` on loopback, through the
benchmark command itself; the instructor's feed must keep receiving updates
for every student to the end. No timing thresholds: the figures (latency,
CPU, memory) are the benchmark's to report, not the test's to judge."""
import json

from server.cli import main

from .conftest import in_thread


def test_the_instructor_feed_keeps_up_with_200_students(tmp_path, capsys):
    out = tmp_path / "classroom.json"
    command = ["bench", "classroom", "--students", "200", "--seconds", "5", "--rate", "5", "--json", str(out)]
    assert in_thread(main, command) == 0  # (its own event loop: Playwright may hold the main thread's)
    printed = capsys.readouterr().out
    assert "latency summary → instructor feed: p50" in printed and "server process: CPU" in printed
    figures = json.loads(out.read_text())
    assert figures["students"] == 200 and figures["errors"] == []
    assert figures["summaries_sent"] >= 200 * 5 * 5 * 0.5  # the students did send
    assert figures["students_in_feed"] == 200  # every student reached the instructor
    assert figures["students_in_feed_second_half"] == 200  # and kept reaching them to the end
    assert figures["roster_messages"] >= 5
    for key in ("p50", "p99", "max"):
        assert figures["latency_ms"][key] > 0
    assert figures["server_cpu_percent"] > 0 and figures["rss_mb"] > 0
