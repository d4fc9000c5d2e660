/**
 * A minimal GGUF v3 writer: metadata key/values and F32 tensors, laid out as llama.cpp reads
 * them (little endian, 32-byte aligned tensor data). Only what the test models need.
 */

const enum ValueType {
  UInt32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
}

export type MetadataValue =
  | { type: 'u32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'strings'; value: string[] }
  | { type: 'f32s'; value: number[] }
  | { type: 'i32s'; value: number[] };

export interface Tensor {
  name: string;
  /** ggml order: dims[0] is the contiguous one (a row's length). */
  dims: number[];
  data: Float32Array;
}

const alignment = 32;
const tensorTypeF32 = 0;

/** Appends little-endian values to a growing list of buffers. */
class ByteSink {
  readonly parts: Buffer[] = [];
  length = 0;

  push(buffer: Buffer): void {
    this.parts.push(buffer);
    this.length += buffer.length;
  }

  u32(value: number): void {
    this.fixed(4, (b) => b.writeUInt32LE(value));
  }

  i32(value: number): void {
    this.fixed(4, (b) => b.writeInt32LE(value));
  }

  u64(value: number): void {
    this.fixed(8, (b) => b.writeBigUInt64LE(BigInt(value)));
  }

  f32(value: number): void {
    this.fixed(4, (b) => b.writeFloatLE(value));
  }

  private fixed(size: number, write: (b: Buffer) => void): void {
    const b = Buffer.alloc(size);
    write(b);
    this.push(b);
  }

  string(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    this.u64(bytes.length);
    this.push(bytes);
  }

  padTo(multiple: number): void {
    const pad = (multiple - (this.length % multiple)) % multiple;
    if (pad > 0) this.push(Buffer.alloc(pad));
  }
}

function writeValue(sink: ByteSink, entry: MetadataValue): void {
  switch (entry.type) {
    case 'u32': sink.u32(ValueType.UInt32); sink.u32(entry.value); return;
    case 'f32': sink.u32(ValueType.Float32); sink.f32(entry.value); return;
    case 'bool': sink.u32(ValueType.Bool); sink.push(Buffer.from([entry.value ? 1 : 0])); return;
    case 'string': sink.u32(ValueType.String); sink.string(entry.value); return;
    case 'strings':
      sink.u32(ValueType.Array); sink.u32(ValueType.String); sink.u64(entry.value.length);
      for (const s of entry.value) sink.string(s);
      return;
    case 'f32s':
      sink.u32(ValueType.Array); sink.u32(ValueType.Float32); sink.u64(entry.value.length);
      for (const v of entry.value) sink.f32(v);
      return;
    case 'i32s':
      sink.u32(ValueType.Array); sink.u32(ValueType.Int32); sink.u64(entry.value.length);
      for (const v of entry.value) sink.i32(v);
      return;
  }
}

/** The whole file: header, metadata, tensor infos, aligned tensor data. */
export function encodeGguf(metadata: Record<string, MetadataValue>, tensors: Tensor[]): Buffer {
  const sink = new ByteSink();
  sink.push(Buffer.from('GGUF', 'latin1'));
  sink.u32(3);
  sink.u64(tensors.length);
  sink.u64(Object.keys(metadata).length);
  for (const [key, value] of Object.entries(metadata)) {
    sink.string(key);
    writeValue(sink, value);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const tensor of tensors) {
    const elements = tensor.dims.reduce((a, b) => a * b, 1);
    if (elements !== tensor.data.length) throw new Error(`tensor ${tensor.name}: ${tensor.data.length} values for dims ${tensor.dims.join('x')}`);
    offsets.push(offset);
    offset += Math.ceil((elements * 4) / alignment) * alignment;
  }
  tensors.forEach((tensor, i) => {
    sink.string(tensor.name);
    sink.u32(tensor.dims.length);
    for (const dim of tensor.dims) sink.u64(dim);
    sink.u32(tensorTypeF32);
    sink.u64(offsets[i]!);
  });
  sink.padTo(alignment);
  for (const tensor of tensors) {
    sink.push(Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
    sink.padTo(alignment);
  }
  return Buffer.concat(sink.parts);
}
