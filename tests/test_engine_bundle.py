"""The engine bundle the browser worker gets: exactly the numpy-only
modules and data files, the same bytes every build."""
import io
import zipfile

from playground.app.engine_bundle import EngineBundle


def test_bundle_holds_the_engine_and_nothing_of_the_app():
    bundle = EngineBundle.build()
    names = set(zipfile.ZipFile(io.BytesIO(bundle.data)).namelist())
    for needed in ("playground/worker_api.py", "playground/session.py", "playground/frames.py",
                   "playground/engine/recurrent.py", "playground/spec/sharing.py",
                   "playground/data/files/digits8x8.npz", "playground/data/files/corpus.txt"):
        assert needed in names
    assert not any(name.startswith("playground/app/") for name in names)
    assert "playground/bench.py" not in names


def test_bundle_is_reproducible():
    assert EngineBundle.build().version == EngineBundle.build().version
