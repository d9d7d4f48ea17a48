"""The learner exports the model on the page as a PyTorch project, and the
project's script gives the accuracy the page showed."""
import io
import json
import re
import subprocess
import sys
import zipfile

import pytest

from playground.spec import Dense, Spec, Task

from ..browser.learner import link, pause, train, wait_for_engine, wait_until

pytestmark = pytest.mark.usefixtures("no_server_errors")


def test_export_to_pytorch_from_the_page(server_app, new_page, tmp_path):
    url, _ = server_app
    spec = Spec(task=Task("xor"), layers=(Dense(4), Dense(2)))
    page = new_page(link(url, spec))
    wait_for_engine(page)
    train(page)
    wait_until(page, lambda: float(page.locator("[data-role=test-loss]").text_content()) < 0.2, 60, "xor trains")
    pause(page)
    shown = page.locator("[data-role=accuracy]").text_content()  # "Test accuracy 97.2 %"
    with page.expect_download() as download_info:
        page.locator("[data-role=export]").click()
    archive = zipfile.ZipFile(io.BytesIO(open(download_info.value.path(), "rb").read()))
    archive.extractall(tmp_path)
    folder = tmp_path / "playground-model"
    assert {"model.py", "weights.pt", "data.npz", "spec.json", "README.txt"} <= {p.name for p in folder.iterdir()}
    assert Spec.from_dict(json.loads((folder / "spec.json").read_text())) == spec

    run = subprocess.run([sys.executable, "model.py"], cwd=folder, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    test_line = next(line for line in run.stdout.splitlines() if line.startswith("test"))
    accuracy = float(re.search(r"accuracy (\d\.\d+)", test_line).group(1))
    assert f"Test accuracy {100 * accuracy:.1f} %" == shown
    assert "downloading" in page.locator(".pg-notice").text_content()
