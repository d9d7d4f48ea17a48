"""The engine as the browser gets it: the package's own numpy-only modules
(spec, engine, data with its files, frames, session, snapshot, worker API)
zipped from the installed sources, so the browser runs exactly the code
that the server and the tests run."""
from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import playground

PACKAGE = Path(playground.__file__).resolve().parent
#: What the worker needs, relative to the package: everything but the app
#: (Panel) and the CPython benchmark.
INCLUDED = ("*.py", "spec/*.py", "engine/*.py", "data/*.py", "data/files/*.npz", "data/files/*.txt")
EXCLUDED = ("bench.py",)


@dataclass(frozen=True)
class EngineBundle:
    data: bytes
    version: str  # a hash of the content, for cache busting
    files: tuple[str, ...]

    @classmethod
    def build(cls) -> "EngineBundle":
        paths = sorted({path for pattern in INCLUDED for path in PACKAGE.glob(pattern)
                        if path.relative_to(PACKAGE).as_posix() not in EXCLUDED})
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in paths:
                name = "playground/" + path.relative_to(PACKAGE).as_posix()
                # A fixed date keeps the bytes (and the version) stable across builds.
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
        data = buffer.getvalue()
        names = tuple("playground/" + p.relative_to(PACKAGE).as_posix() for p in paths)
        return cls(data, hashlib.sha256(data).hexdigest()[:16], names)
