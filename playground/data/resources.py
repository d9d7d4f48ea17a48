"""Reading the files bundled in ``playground/data/files`` (see SOURCES.md there)."""
from __future__ import annotations

from importlib import resources


def read_bytes(name: str) -> bytes:
    """The contents of a bundled file; works from a wheel, a zip or a source tree."""
    return resources.files(__package__).joinpath("files").joinpath(name).read_bytes()
