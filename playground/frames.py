"""The frame format and its binary codec — one definition for the browser
worker, the server trainer and the renderer (``app/assets/frame_codec.js``
decodes the same bytes).

A frame is a JSON header plus named numeric arrays, packed as::

    b"PGF1" | header length (uint32, little-endian) | header (UTF-8 JSON)
    | padding to 8 bytes | each array's bytes, each starting at a multiple of 8

The header lists the arrays as ``{"name", "dtype", "shape", "offset"}``
(offset from the start of the buffer), so the renderer can view them as
typed arrays without copying. Only float32, float64, int32, uint8 and
int64 travel.
"""
from __future__ import annotations

import json
import struct

import numpy as np

MAGIC = b"PGF1"
_DTYPES = ("float32", "float64", "int32", "uint8", "int64")


class FrameError(ValueError):
    """Bytes that are not a frame."""


def _pad(size: int) -> int:
    return (-size) % 8


def encode(header: dict, arrays: dict[str, np.ndarray]) -> bytes:
    """Pack a header and arrays into one buffer."""
    layout, prepared = [], {}
    for name, value in arrays.items():
        value = np.ascontiguousarray(value)
        if value.dtype.name not in _DTYPES:
            raise TypeError(f"frame array {name!r} has dtype {value.dtype}; use one of {', '.join(_DTYPES)}")
        if value.dtype.byteorder == ">":
            value = value.astype(value.dtype.newbyteorder("<"))
        prepared[name] = value
    # Offsets depend on the header's length, which depends on the offsets:
    # write them with a fixed width so one pass settles both.
    for name, value in prepared.items():
        layout.append({"name": name, "dtype": value.dtype.name, "shape": list(value.shape), "offset": 0})
    full = dict(header, arrays=layout)
    text = json.dumps(full, separators=(",", ":"), allow_nan=False).encode()
    start = 8 + len(text) + len(prepared) * 12  # room for the offsets' digits
    start += _pad(start)
    offset = start
    for entry, value in zip(layout, prepared.values()):
        entry["offset"] = offset
        offset += value.nbytes + _pad(value.nbytes)
    text = json.dumps(full, separators=(",", ":"), allow_nan=False).encode()
    text += b" " * (start - 8 - len(text))  # JSON ignores trailing spaces
    out = bytearray(MAGIC + struct.pack("<I", len(text)) + text)
    for value in prepared.values():
        out += value.tobytes()
        out += b"\0" * _pad(value.nbytes)
    return bytes(out)


def decode(buffer: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """Unpack a frame: (header without the array list, {name: array})."""
    view = memoryview(buffer)
    if len(view) < 8 or bytes(view[:4]) != MAGIC:
        raise FrameError("not a playground frame (bad magic)")
    (length,) = struct.unpack("<I", view[4:8])
    if 8 + length > len(view):
        raise FrameError("frame header runs past the end of the buffer")
    header = json.loads(bytes(view[8:8 + length]).decode())
    arrays = {}
    for entry in header.pop("arrays", []):
        dtype = np.dtype(entry["dtype"]).newbyteorder("<")
        count = int(np.prod(entry["shape"], dtype=np.int64))
        end = entry["offset"] + count * dtype.itemsize
        if entry["dtype"] not in _DTYPES or end > len(view):
            raise FrameError(f"frame array {entry['name']!r} does not fit the buffer")
        arrays[entry["name"]] = np.frombuffer(view, dtype=dtype, count=count,
                                              offset=entry["offset"]).reshape(entry["shape"])
    return header, arrays


def finite_or_none(value) -> float | None:
    """JSON has no NaN or infinity: a diverged loss travels as null."""
    value = float(value)
    return value if np.isfinite(value) else None
