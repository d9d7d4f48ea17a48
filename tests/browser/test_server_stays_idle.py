"""While the browser trains, the server does no training work: no engine
step runs on the server, only summaries arrive (about five a second)."""
import time

from playground.app.network_view import NetworkView
from playground.engine.trainer import Trainer
from playground.spec import Dense, Spec, Task

from ..conftest import running_playground
from .learner import link, step, train, wait_for_engine


def test_browser_trains_and_the_server_only_receives_summaries(pyodide_dir, new_page, monkeypatch):
    engine_steps, summaries = [], []
    original_step, original_handle = Trainer.train_step, NetworkView._handle_msg

    def counted_step(self):
        engine_steps.append(time.monotonic())
        return original_step(self)

    def counted_handle(self, message):
        if isinstance(message, dict) and message.get("type") == "summary":
            summaries.append(message)
        return original_handle(self, message)

    monkeypatch.setattr(Trainer, "train_step", counted_step)
    monkeypatch.setattr(NetworkView, "_handle_msg", counted_handle)
    with running_playground(pyodide_dir) as url:
        page = new_page(link(url, Spec(task=Task("spiral"), layers=(Dense(8), Dense(8)))))
        wait_for_engine(page)
        train(page)
        page.wait_for_timeout(1000)
        start_step, start_cpu, start_count = step(page), time.process_time(), len(summaries)
        started = time.monotonic()
        page.wait_for_timeout(6000)
        seconds = time.monotonic() - started
        trained = step(page) - start_step
        cpu = time.process_time() - start_cpu
        received = len(summaries) - start_count
    print(f"\nbrowser steps: {trained} in {seconds:.1f} s; summaries: {received}; "
          f"server process CPU: {cpu:.2f} s (includes the test's own waiting)")
    assert trained > 1000, "the browser should have trained"
    assert engine_steps == [], "the server ran engine steps"
    assert 3 * seconds <= received <= 8 * seconds, f"{received} summaries in {seconds:.1f} s, expected about 5 a second"
    last = summaries[-1]
    assert {"step", "epoch", "train_loss", "test_loss", "train_accuracy"} <= set(last)
    assert "param/0/W" not in str(last.keys()), "summaries carry numbers, not frames"
