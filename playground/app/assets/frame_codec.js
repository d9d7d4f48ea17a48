// Decodes the playground's binary frames; playground/frames.py is the
// encoder and documents the layout. Arrays are views on the buffer: no copy.

const TYPES = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint8: Uint8Array,
  int64: BigInt64Array,
};
const MAGIC = 0x50474631; // "PGF1"

export function decodeFrame(buffer) {
  const view = new DataView(buffer);
  if (buffer.byteLength < 8 || view.getUint32(0, false) !== MAGIC) {
    throw new Error("not a playground frame");
  }
  const length = view.getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, length)));
  const arrays = {};
  for (const entry of header.arrays || []) {
    const Type = TYPES[entry.dtype];
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (!Type || entry.offset + count * Type.BYTES_PER_ELEMENT > buffer.byteLength) {
      throw new Error(`frame array ${entry.name} does not fit the buffer`);
    }
    arrays[entry.name] = { data: new Type(buffer, entry.offset, count), shape: entry.shape };
  }
  delete header.arrays;
  return { header, arrays };
}
