"""The frame codec: Python encodes, and both Python and the renderer's
JavaScript decoder read the same arrays back."""
import json
import subprocess

import numpy as np
import pytest

from playground.frames import FrameError, decode, encode

from ..conftest import REPO

ARRAYS = {
    "surface": np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4),
    "classes": np.array([0, 3, 255], dtype=np.uint8),
    "labels": np.array([-7, 1, 2**31 - 1], dtype=np.int32),
    "exact": np.array([0.1, 1e-300, -2.5], dtype=np.float64),
    "empty": np.zeros((0, 5), dtype=np.float32),
}


def test_round_trip_in_python():
    header, arrays = decode(encode({"step": 7, "loss": None, "name": "é"}, ARRAYS))
    assert header == {"step": 7, "loss": None, "name": "é"}
    for name, value in ARRAYS.items():
        assert arrays[name].dtype == value.dtype and arrays[name].shape == value.shape
        np.testing.assert_array_equal(arrays[name], value)


def test_arrays_are_aligned_for_typed_array_views():
    buffer = encode({}, ARRAYS)
    length = int.from_bytes(buffer[4:8], "little")
    for entry in json.loads(buffer[8:8 + length])["arrays"]:
        assert entry["offset"] % 8 == 0


def test_bad_input_is_refused():
    with pytest.raises(TypeError, match="complex128"):
        encode({}, {"z": np.zeros(2, dtype=complex)})
    with pytest.raises(ValueError):
        encode({"loss": float("nan")}, {})  # JSON has no NaN: losses travel as null
    with pytest.raises(FrameError, match="bad magic"):
        decode(b"nope, not a frame")
    with pytest.raises(FrameError, match="does not fit"):
        decode(encode({}, ARRAYS)[:-40])


def test_the_renderers_decoder_reads_the_same_arrays(node, tmp_path):
    frame = tmp_path / "frame.bin"
    frame.write_bytes(encode({"step": 3}, ARRAYS))
    codec = (REPO / "playground" / "app" / "assets" / "frame_codec.js").as_uri()
    script = f"""
import {{ decodeFrame }} from {json.dumps(codec)};
import {{ readFileSync }} from "node:fs";
const bytes = readFileSync({json.dumps(str(frame))});
const {{ header, arrays }} = decodeFrame(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
const out = {{ header, arrays: {{}} }};
for (const [name, a] of Object.entries(arrays)) {{
  out.arrays[name] = {{ shape: a.shape, type: a.data.constructor.name, values: Array.from(a.data) }};
}}
console.log(JSON.stringify(out));
"""
    run = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    decoded = json.loads(run.stdout)
    assert decoded["header"] == {"step": 3}
    types = {"float32": "Float32Array", "uint8": "Uint8Array", "int32": "Int32Array", "float64": "Float64Array"}
    for name, value in ARRAYS.items():
        got = decoded["arrays"][name]
        assert got["shape"] == list(value.shape) and got["type"] == types[value.dtype.name]
        np.testing.assert_array_equal(np.array(got["values"], dtype=value.dtype), value.ravel())
