"""Put the pinned Pyodide 0.27.7 files into a folder the app serves.

The browser engine runs in Pyodide. Serving its files from the app (instead of
the CDN) lets a classroom work without internet. The chain of trust:

1. the core files, the lock ``pyodide-lock.json`` among them, must match the
   sha256 pinned in ``CORE_FILES`` below (the official 0.27.7 distribution);
2. every package wheel the app needs (``PACKAGES``) must match the sha256 that
   the verified lock gives for it, under the lock's ``file_name``.

A file is downloaded (or copied) to a temporary file beside its final place,
checked, and only then renamed into place: a corrupt or partial file never
lands. Standard library only: no torch, no panel.
"""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .downloads import byte_size, failure_reason

PYODIDE_VERSION = "0.27.7"
DEFAULT_SOURCE = "https://cdn.jsdelivr.net/pyodide/v0.27.7/full/"
SOURCE_ENV = "PLAYGROUND_PYODIDE_SOURCE"
LOCK_FILE = "pyodide-lock.json"

# sha256 of the official Pyodide 0.27.7 core files (npm package pyodide@0.27.7,
# the same bytes as the CDN's full/ folder); see ../shared/pyodide/0.27.7/SHA256SUMS.
CORE_FILES = {
    "pyodide-lock.json": "9c45b916001a750f4102fc287494f3eab215909c7535c626a20db80fd6333e2c",
    "pyodide.js": "b4cb23a53aba19c221659b9fb40a2f18281d685691dc06647fb0afd0681baf98",
    "pyodide.mjs": "04c052c815abb0bf2981fa38c2dfa58e3120ee5288c956df2b2a15e301782c5f",
    "pyodide.asm.js": "6b4c90de5b7172873f04f21884d0e9d2274e305fe32116558fe3e4fbe3618d51",
    "pyodide.asm.wasm": "a50dd1843f805a0b7c45b61037ee0d7b26dfe85efe0e18ef95a34ad24e401f5f",
    "python_stdlib.zip": "16611534726e5d8ac2bd8f926410b2dcb8d6f49aa24913463533b457a2115c16",
    "package.json": "bf221f60c881626236d3501375a97753672a7fa6fed70e469e083f157c8a30d4",
}

# The Pyodide packages the browser engine loads; their wheels are checked against the lock.
PACKAGES = ("numpy",)

TIMEOUT_S = 60.0
USER_AGENT = f"playground-pyodide-fetch/{PYODIDE_VERSION} (Python urllib)"
CHUNK = 1 << 16
PROGRESS_EVERY_S = 0.5
ADVICE = (f"fetch from a local copy of the files instead (`playground pyodide fetch --from FOLDER`) "
          f"or set {SOURCE_ENV} to a folder or URL that has them")


class PyodideFetchError(Exception):
    """Fetching or checking the Pyodide files failed; the message says what, where and what to do."""


def default_destination() -> Path:
    """The project's ``static/pyodide`` folder, which the app serves (and git ignores)."""
    return Path(__file__).resolve().parents[1] / "static" / "pyodide"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _WriteFailed(Exception):
    """Writing into the destination failed (kept apart from read and network errors)."""


class _HashingWriter:
    """A binary file wrapper that hashes and counts what is written through it."""

    def __init__(self, file):
        self.file, self.digest, self.count = file, hashlib.sha256(), 0

    def write(self, block) -> None:
        self.digest.update(block)
        self.count += len(block)
        try:
            self.file.write(block)
        except OSError as error:
            raise _WriteFailed(error) from error


class _Source:
    """A local folder or a folder URL the files are read from."""

    def __init__(self, source: str | os.PathLike, timeout: float = TIMEOUT_S):
        text = os.fspath(source).strip()
        self.text, self.timeout = text, timeout
        lower = text.lower()
        if lower.startswith(("http://", "https://")):
            self.url = text if text.endswith("/") else text + "/"
            self.folder = None
        else:
            if lower.startswith("file:"):
                parsed = urllib.parse.urlparse(text)
                if parsed.netloc not in ("", "localhost"):
                    raise PyodideFetchError(f"cannot read {text}: only local file:// URLs are supported; "
                                            f"give the folder's path instead")
                folder = Path(urllib.request.url2pathname(parsed.path))
            else:
                folder = Path(text).expanduser()
            self.url, self.folder = None, folder
            if not folder.is_dir():
                what = "is not a folder" if folder.exists() else "does not exist"
                raise PyodideFetchError(
                    f"the Pyodide source folder {folder} {what}. Give a folder that holds the Pyodide "
                    f"{PYODIDE_VERSION} files (pyodide.js, pyodide.asm.wasm, ...), e.g. a copy of the CDN's "
                    f"{DEFAULT_SOURCE}, or leave --from out to download them from there")

    def where(self, name: str) -> str:
        return self.url + urllib.parse.quote(name) if self.url else str(self.folder / name)

    def copy_into(self, name: str, out, progress) -> None:
        """Write the file's bytes into ``out`` (anything with a binary ``write``)."""
        if self.url:
            return self._download(name, out, progress)
        path = self.folder / name
        try:
            file = open(path, "rb")
        except FileNotFoundError:
            raise PyodideFetchError(
                f"{name} is missing in the source folder {self.folder}. That folder is not a complete "
                f"Pyodide {PYODIDE_VERSION} distribution: add the file (from {DEFAULT_SOURCE}{name}) "
                f"or use another source") from None
        except IsADirectoryError:
            raise PyodideFetchError(f"{path} is a folder, not the file {name}; use another source") from None
        except OSError as error:
            raise PyodideFetchError(f"could not read {name} from {path}: {error}") from None
        with file:
            while True:
                try:
                    block = file.read(CHUNK)
                except OSError as error:
                    raise PyodideFetchError(f"could not read {name} from {path}: {error}") from None
                if not block:
                    break
                out.write(block)

    def _download(self, name: str, out, progress) -> None:
        url = self.where(name)
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                progress(f"{name}: downloading {byte_size(total)} from {url}")
                done, last = 0, time.monotonic()
                while True:
                    block = response.read(CHUNK)
                    if not block:
                        break
                    out.write(block)
                    done += len(block)
                    now = time.monotonic()
                    if now - last >= PROGRESS_EVERY_S:
                        last = now
                        share = f"{100 * done / total:.0f}% ({byte_size(done)} of {byte_size(total)})" if total else byte_size(done)
                        progress(f"{name}: {share}")
                if total is not None and done != total:
                    raise http.client.IncompleteRead(b"", total - done)
        except urllib.error.HTTPError as error:
            if error.code in (404, 410):
                raise PyodideFetchError(
                    f"{name} is missing at the source: {url} answered HTTP {error.code}. Check that the URL is "
                    f"a Pyodide {PYODIDE_VERSION} folder (the default is {DEFAULT_SOURCE}), or {ADVICE}") from None
            raise PyodideFetchError(f"could not download {name} from {url}: the server answered HTTP {error.code} "
                                    f"{error.reason}. Try again later, or {ADVICE}") from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            reason = failure_reason(error, self.timeout)
            raise PyodideFetchError(f"could not download {name} from {url}: {reason}. The network or the server "
                                    f"is unreachable; check the connection, or {ADVICE}") from None


def _lock_packages(lock_path: Path, packages=PACKAGES) -> list[tuple[str, str]]:
    """(file_name, sha256) of each needed package, from a verified lock."""
    try:
        entries = json.loads(lock_path.read_text(encoding="utf-8"))["packages"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise PyodideFetchError(f"cannot read the package list from {lock_path}: {error}") from None
    wheels = []
    for package in packages:
        entry = entries.get(package)
        if not isinstance(entry, dict) or not entry.get("file_name") or not entry.get("sha256"):
            raise PyodideFetchError(
                f"{LOCK_FILE} ({lock_path}) has no usable entry for the package {package!r} (file_name and "
                f"sha256): the app needs it. The lock is not the one of Pyodide {PYODIDE_VERSION}; "
                f"fetch the files again from {DEFAULT_SOURCE}")
        file_name = entry["file_name"]
        if Path(file_name).name != file_name or file_name.startswith("."):
            raise PyodideFetchError(f"{LOCK_FILE} gives {package!r} the file name {file_name!r}, which is not "
                                    f"a plain file name; the lock is not the official one")
        wheels.append((file_name, entry["sha256"].lower()))
    return wheels


def _fetch_one(name: str, expected: str, source: _Source, destination: Path, progress) -> Path:
    """Keep ``destination/name`` if it matches ``expected``; else fetch, check, rename into place."""
    target = destination / name
    if target.is_file():
        if sha256_of(target) == expected:
            progress(f"{name}: already there (sha256 ok)")
            return target
        progress(f"{name}: present but its sha256 differs; fetching it again")
    temporary = None
    try:
        with tempfile.NamedTemporaryFile(dir=destination, prefix=f".{name}.", suffix=".part", delete=False) as out:
            temporary = Path(out.name)
            writer = _HashingWriter(out)
            source.copy_into(name, writer, progress)
        got = writer.digest.hexdigest()
        if got != expected:
            raise PyodideFetchError(
                f"{name} from {source.where(name)} has the wrong sha256: expected {expected}, got {got}. "
                f"The source is corrupt or is not Pyodide {PYODIDE_VERSION}, so the file was not kept. "
                f"Use a source with the official files (the default is {DEFAULT_SOURCE}), or {ADVICE}")
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
        temporary = None
    except (OSError, _WriteFailed) as error:
        raise PyodideFetchError(f"could not write {name} into {destination}: {error}. Check that the folder "
                                f"is writable and the disk has room, or choose another one with --dest") from None
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
    how = "downloaded" if source.url else "copied"
    progress(f"{name}: {how}, {byte_size(writer.count)}, sha256 ok")
    return target


def _remove_leftovers(destination: Path, names) -> None:
    """Temporary files of an earlier, interrupted run (ours only: ``.<name>.*.part``)."""
    for name in names:
        for leftover in destination.glob(f".{name}.*.part"):
            try:
                leftover.unlink()
            except OSError:
                pass


def fetch_pyodide(destination: Path, source: str | os.PathLike | None = None, progress=print, *,
                  timeout: float = TIMEOUT_S) -> list[Path]:
    """Put the pinned Pyodide files (core files, then the ``PACKAGES`` wheels) into ``destination``.

    ``source`` is a local folder, a ``file://`` URL or an ``http(s)://`` folder URL; left out, it is
    ``$PLAYGROUND_PYODIDE_SOURCE`` or else the official CDN. Files already in ``destination`` with
    the right sha256 are kept. Returns the paths of all the files, checked. Raises
    ``PyodideFetchError`` with a message that says what failed, where, and what to do.
    """
    if source is None or not os.fspath(source).strip():
        source = os.environ.get(SOURCE_ENV, "").strip() or DEFAULT_SOURCE
    origin = _Source(source, timeout=timeout)
    destination = Path(destination).expanduser()
    try:
        destination.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PyodideFetchError(f"cannot create the destination folder {destination}: {error}; "
                                f"choose another one with --dest") from None
    progress(f"Pyodide {PYODIDE_VERSION}: from {origin.url or origin.folder} into {destination}")
    _remove_leftovers(destination, CORE_FILES)
    # The lock first: it is checked against the pinned table, then names and pins the wheels.
    paths = [_fetch_one(LOCK_FILE, CORE_FILES[LOCK_FILE], origin, destination, progress)]
    wheels = _lock_packages(paths[0])
    _remove_leftovers(destination, [file_name for file_name, _ in wheels])
    for name, expected in CORE_FILES.items():
        if name != LOCK_FILE:
            paths.append(_fetch_one(name, expected, origin, destination, progress))
    for file_name, expected in wheels:
        paths.append(_fetch_one(file_name, expected, origin, destination, progress))
    return paths


def check_pyodide(folder: Path) -> list[str]:
    """What is wrong with the Pyodide files in ``folder`` (missing files, wrong sha256); [] when all is fine."""
    folder = Path(folder)
    fix = f"run `playground pyodide fetch --dest {folder}`"
    if not folder.is_dir():
        return [f"the Pyodide folder {folder} does not exist; {fix}"]
    problems = []

    def check(name: str, expected: str) -> bool:
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing in {folder}; {fix}")
            return False
        try:
            got = sha256_of(path)
        except OSError as error:
            problems.append(f"{name} in {folder} cannot be read ({error}); {fix}")
            return False
        if got != expected:
            problems.append(f"{name} in {folder} has the wrong sha256 (expected {expected}, got {got}): "
                            f"it is corrupt or not Pyodide {PYODIDE_VERSION}; {fix}")
            return False
        return True

    lock_ok = check(LOCK_FILE, CORE_FILES[LOCK_FILE])
    for name, expected in CORE_FILES.items():
        if name != LOCK_FILE:
            check(name, expected)
    if lock_ok:
        try:
            wheels = _lock_packages(folder / LOCK_FILE)
        except PyodideFetchError as error:
            problems.append(str(error))
        else:
            for file_name, expected in wheels:
                check(file_name, expected)
    else:
        problems.append(f"the package wheels ({', '.join(PACKAGES)}) were not checked: "
                        f"{LOCK_FILE} is not the pinned one")
    return problems
