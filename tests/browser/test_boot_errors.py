"""A missing or corrupt Pyodide file gives a clear error on the page within
the boot timeout, and the page stays usable."""
import shutil

import pytest

from ..conftest import running_playground
from .learner import wait_until

BOOT_TIMEOUT = 20


@pytest.fixture
def broken_pyodide(tmp_path, pyodide_dir):
    def make(damage):
        folder = tmp_path / "pyodide"
        shutil.copytree(pyodide_dir, folder)
        damage(folder)
        return folder
    return make


def corrupt_wasm(folder):
    data = bytearray((folder / "pyodide.asm.wasm").read_bytes())
    data[100:4000] = b"\x00" * 3900
    (folder / "pyodide.asm.wasm").write_bytes(bytes(data))


def missing_runtime(folder):
    (folder / "pyodide.asm.js").unlink()


def missing_loader(folder):
    (folder / "pyodide.js").unlink()


@pytest.mark.parametrize("damage", [corrupt_wasm, missing_runtime, missing_loader])
def test_broken_pyodide_files_give_a_clear_error_within_the_timeout(broken_pyodide, new_page, damage):
    with running_playground(broken_pyodide(damage), boot_timeout=BOOT_TIMEOUT) as url:
        page = new_page(url)
        error = page.get_by_text("The training engine could not start")
        error.wait_for(timeout=(BOOT_TIMEOUT + 10) * 1000)
        notice = page.locator(".pg-notice").text_content()
        assert "playground pyodide fetch" in notice, notice
        assert page.get_by_role("button", name="Try again").is_visible()
        # The rest of the page still works: change the dataset; the link follows.
        address = page.url
        dataset = page.get_by_role("combobox", name="Dataset")
        dataset.select_option(label="Exclusive or")
        wait_until(page, lambda: page.url != address, 10, "the page's link did not follow the new dataset")
        assert dataset.evaluate("select => select.options[select.selectedIndex].text") == "Exclusive or"
