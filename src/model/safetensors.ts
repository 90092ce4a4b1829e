import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { CheckpointError } from '../errors.ts';
import { crashPoint } from '../util/fs.ts';
import { parseJson, show } from '../util/json.ts';

/**
 * safetensors: 8-byte little-endian header length N, N bytes of JSON header
 * ({name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {str: str}}), then the
 * raw little-endian data; offsets are relative to the end of the header.
 *
 * Read: every header is validated whole (dtype, shape, offsets inside the file, dtype × shape =
 * span, no overlaps) before a single tensor buffer is made; then tensors are read one at a time,
 * in chunks, straight into float32 (F32 copied, BF16 shifted, F16 converted exactly with
 * subnormals and ±inf, NaNs quieted), the rest converted by value. Written: F32, BF16 or F16
 * (round to nearest even, bit for bit as PyTorch's `.to()`), one tensor at a time.
 */

export type StDType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';
const BYTES: Record<StDType, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export interface StTensor { dtype: StDType; shape: number[]; data: Float32Array }
export interface StFile { tensors: Map<string, StTensor>; metadata: Record<string, string> }

/** One tensor of a validated header: where its bytes are (relative to the data section). */
export interface StEntry { name: string; dtype: StDType; shape: number[]; begin: number; end: number; count: number }
export interface StHeader {
  file: string;
  /** Bytes before the data section: 8 + the header length. */
  dataStart: number;
  entries: Map<string, StEntry>;
  metadata: Record<string, string>;
}

/** Largest header we accept (the format's own reference limit is 100 MB). */
const MAX_HEADER = 100_000_000;
/** Most dimensions a tensor may have (PyTorch's own limit is 64). */
const MAX_DIMS = 64;
/** Bytes read or written at a time: what loading costs beyond the model itself. */
const CHUNK = 4 << 20;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Checks the 8-byte header length against the file before anything else is read. */
function headerLength(first8: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8) throw new CheckpointError(`file is ${fileSize} bytes, shorter than the 8-byte header length`, { file });
  const n = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > fileSize) throw new CheckpointError(`header length ${n} does not fit the ${fileSize}-byte file`, { file });
  return n;
}

/** Parses and validates a header's JSON against the size of the data section that follows it. */
function parseHeader(headerBytes: Uint8Array, dataLen: number, file: string): StHeader {
  const fail = (msg: string, field?: string): never => { throw new CheckpointError(msg, { file, field }); };
  let text: string;
  try { text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes); } catch (cause) {
    throw new CheckpointError('header is not valid UTF-8', { file }, { cause });
  }
  const header = parseJson(text, (msg, e) => { throw new CheckpointError(`header: ${msg}`, { file }, e && { cause: e.cause }); }) as Record<string, unknown>;
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const entries = new Map<string, StEntry>();
  let metadata: Record<string, string> = {};
  const spans: Array<[number, number, string]> = [];
  for (const [key, v] of Object.entries(header)) {
    const name = key.length > 200 ? `${key.slice(0, 200)}…` : key;   // as errors name it
    if (key === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) fail('__metadata__ must be an object of strings', name);
      metadata = v as Record<string, string>;
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) fail('entry must be an object', name);
    const dtype = e.dtype as StDType;
    if (!(typeof dtype === 'string' && Object.hasOwn(BYTES, dtype))) fail(`unsupported dtype ${show(e.dtype)}`, `${name}.dtype`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail('shape must be a list of non-negative integers', `${name}.shape`);
    if ((shape as number[]).length > MAX_DIMS) fail(`shape has ${(shape as number[]).length} dimensions, more than ${MAX_DIMS}`, `${name}.shape`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0)) fail('data_offsets must be [begin, end]', `${name}.data_offsets`);
    const [b, en] = off as number[];
    const count = (shape as number[]).reduce((a, x) => a * x, 1);
    if (b > en || en > dataLen) fail(`data_offsets [${b}, ${en}] outside the ${dataLen}-byte data section`, `${name}.data_offsets`);
    if (en - b !== count * BYTES[dtype]) fail(`data_offsets span ${en - b} bytes, shape [${shape}] of ${dtype} needs ${count * BYTES[dtype]}`, `${name}.data_offsets`);
    spans.push([b, en, name]);
    entries.set(key, { name: key, dtype, shape: shape as number[], begin: b, end: en, count });
  }
  // every entry checked and no two spans overlapping before a single buffer is made: a header of
  // many entries over one span cannot make the reader allocate more than the file's size
  spans.sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) fail(`tensor data overlaps "${spans[i - 1][2]}"`, `${spans[i][2]}.data_offsets`);
  }
  return { file, dataStart: 8 + headerBytes.length, entries, metadata };
}

/* ---------- decoding: raw little-endian elements → float32 ---------- */

let halfBits: Uint32Array | null = null;
/**
 * The float32 bit pattern of every float16: exact for normals, subnormals, ±0 and ±inf; a NaN
 * keeps its sign and payload and comes out quiet, as PyTorch's `.float()` on x86 (F16C) gives.
 */
function halfTable(): Uint32Array {
  if (halfBits !== null) return halfBits;
  const u = new Uint32Array(65536), f = new Float32Array(u.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    if (e === 0x1f) u[h] = sign | 0x7f800000 | (m << 13) | (m !== 0 ? 0x400000 : 0);
    else if (e !== 0) u[h] = sign | ((e + 112) << 23) | (m << 13);
    else f[h] = (sign !== 0 ? -1 : 1) * m * 2 ** -24;   // ±0 and subnormals: exact in float32
  }
  return (halfBits = u);
}

/** Where element g of a (rows, cols) row-major tensor goes when stored transposed (cols, rows). */
export interface Transpose { rows: number; cols: number }

/**
 * Decodes n elements from `bytes` (aligned to the element size) into dst: element g0 + i at
 * dst[g0 + i], or transposed at dst[c·rows + r] with (r, c) the element's row and column.
 */
function decodeInto(bytes: Uint8Array, dtype: StDType, n: number, dst: Float32Array, g0: number, tr: Transpose | null): void {
  const buf = bytes.buffer, off = bytes.byteOffset;
  const dstBits = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  let put: (i: number, j: number) => void;
  switch (dtype) {
    case 'F32': { const s = new Uint32Array(buf, off, n); put = (i, j) => { dstBits[j] = s[i]; }; break; }
    case 'BF16': { const s = new Uint16Array(buf, off, n); put = (i, j) => { dstBits[j] = s[i] << 16; }; break; }
    case 'F16': { const s = new Uint16Array(buf, off, n), t = halfTable(); put = (i, j) => { dstBits[j] = t[s[i]]; }; break; }
    case 'F64': { const s = new Float64Array(buf, off, n); put = (i, j) => { dst[j] = s[i]; }; break; }
    case 'I64': { const s = new BigInt64Array(buf, off, n); put = (i, j) => { dst[j] = Number(s[i]); }; break; }
    case 'I32': { const s = new Int32Array(buf, off, n); put = (i, j) => { dst[j] = s[i]; }; break; }
    case 'I16': { const s = new Int16Array(buf, off, n); put = (i, j) => { dst[j] = s[i]; }; break; }
    case 'I8': { const s = new Int8Array(buf, off, n); put = (i, j) => { dst[j] = s[i]; }; break; }
    default: { const s = new Uint8Array(buf, off, n); put = (i, j) => { dst[j] = s[i]; }; break; }   // U8, BOOL
  }
  if (tr === null) {
    if (dtype === 'F32') { dst.set(new Float32Array(buf, off, n), g0); return; }   // (a bit copy: NaN payloads kept)
    for (let i = 0; i < n; i++) put(i, g0 + i);
    return;
  }
  let r = Math.floor(g0 / tr.cols), c = g0 % tr.cols;
  for (let i = 0; i < n; i++) {
    put(i, c * tr.rows + r);
    if (++c === tr.cols) { c = 0; r++; }
  }
}

function checkHost(): void {
  if (!LITTLE_ENDIAN) throw new CheckpointError('safetensors data is little-endian; this host is big-endian (not supported)');
}

/* ---------- reading ---------- */

/**
 * An open safetensors file whose header has been validated; tensors are read on demand, in
 * chunks, so reading costs the destination and one chunk. Close it when done.
 */
export class SafetensorsReader {
  readonly header: StHeader;
  #fd: number;
  #chunk: Uint8Array | null = null;

  private constructor(fd: number, header: StHeader) { this.#fd = fd; this.header = header; }

  /** Opens `file` and validates its header (CheckpointError naming the file and the tensor). */
  static open(file: string): SafetensorsReader {
    checkHost();
    let fd: number;
    try { fd = openSync(file, 'r'); } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CheckpointError(`cannot read: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { file }, { cause: e });
    }
    try {
      let size: number;
      try {
        const st = fstatSync(fd);
        if (st.isDirectory()) throw new CheckpointError('cannot read: is a directory, not a file', { file });
        size = st.size;
      } catch (e) {
        if (e instanceof CheckpointError) throw e;
        throw new CheckpointError(`cannot read: ${(e as Error).message}`, { file }, { cause: e });
      }
      const first8 = new Uint8Array(8);
      if (size >= 8) readFully(fd, first8, 0, file);
      const n = headerLength(first8, size, file);
      const hb = new Uint8Array(n);
      readFully(fd, hb, 8, file);
      return new SafetensorsReader(fd, parseHeader(hb, size - 8 - n, file));
    } catch (e) { closeSync(fd); throw e; }
  }

  get file(): string { return this.header.file; }

  /**
   * Reads one tensor into `dst` (of its element count; a new Float32Array when omitted), in
   * the stored order or, with `tr`, transposed from (rows, cols) to (cols, rows).
   */
  read(e: StEntry, dst: Float32Array = new Float32Array(e.count), tr: Transpose | null = null): Float32Array {
    if (dst.length !== e.count || (tr !== null && tr.rows * tr.cols !== e.count)) throw new RangeError(`read ${e.name}: ${e.count} elements into ${dst.length}`);
    const size = BYTES[e.dtype], at = this.header.dataStart + e.begin;
    if (e.dtype === 'F32' && tr === null) {
      readFully(this.#fd, new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength), at, this.file);
      return dst;
    }
    const per = Math.floor(CHUNK / 8);             // elements per chunk (≤ CHUNK bytes at 8 bytes each)
    for (let g = 0; g < e.count; g += per) {
      const n = Math.min(per, e.count - g);
      const bytes = this.#buffer(n * size);
      readFully(this.#fd, bytes, at + g * size, this.file);
      decodeInto(bytes, e.dtype, n, dst, g, tr);
    }
    return dst;
  }

  #buffer(n: number): Uint8Array {
    if (this.#chunk === null || this.#chunk.length < n) this.#chunk = new Uint8Array(Math.max(n, Math.min(CHUNK, 1 << 16)));
    return this.#chunk.subarray(0, n);
  }

  close(): void {
    if (this.#fd >= 0) { closeSync(this.#fd); this.#fd = -1; }
    this.#chunk = null;
  }
}

function readFully(fd: number, into: Uint8Array, position: number, file: string): void {
  let at = 0;
  while (at < into.length) {
    let got: number;
    try { got = readSync(fd, into, at, into.length - at, position + at); } catch (e) {
      throw new CheckpointError(`cannot read: ${(e as Error).message}`, { file }, { cause: e });
    }
    if (got === 0) throw new CheckpointError(`file ended at byte ${position + at}, before the ${position + into.length} its header promises`, { file });
    at += got;
  }
}

/** Reads every tensor of a file as float32 (for small files: adapters, references). */
export function readSafetensors(file: string): StFile {
  const r = SafetensorsReader.open(file);
  try {
    const tensors = new Map<string, StTensor>();
    for (const e of r.header.entries.values()) tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: r.read(e) });
    return { tensors, metadata: r.header.metadata };
  } finally { r.close(); }
}

/** Parses and fully validates a safetensors buffer; every tensor is returned as float32. */
export function parseSafetensors(buf: Uint8Array, file = '<buffer>'): StFile {
  checkHost();
  const n = headerLength(buf.subarray(0, 8), buf.length, file);
  const h = parseHeader(buf.subarray(8, 8 + n), buf.length - 8 - n, file);
  const tensors = new Map<string, StTensor>();
  for (const e of h.entries.values()) {
    const src = buf.subarray(h.dataStart + e.begin, h.dataStart + e.end);
    const aligned = (src.byteOffset % BYTES[e.dtype]) === 0 ? src : src.slice();
    const data = new Float32Array(e.count);
    decodeInto(aligned, e.dtype, e.count, data, 0, null);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata: h.metadata };
}

/* ---------- writing ---------- */

/** What a tensor is stored as. */
export type SaveDType = 'f32' | 'bf16' | 'f16';
const ST_NAME: Record<SaveDType, StDType> = { f32: 'F32', bf16: 'BF16', f16: 'F16' };
export const SAVE_BYTES: Record<SaveDType, number> = { f32: 4, bf16: 2, f16: 2 };

/** A tensor to write: its shape and its row-major float32 data, made when it is written (and dropped after). */
export interface TensorSource { name: string; shape: number[]; data: () => Float32Array }

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
const bitsOf = (x: number): number => { f32[0] = x; return u32[0]; };
const fromBits = (b: number): number => { u32[0] = b; return f32[0]; };

/** float32 bits → bfloat16, round to nearest even (overflow to ±inf); any NaN → 0xFFFF, as PyTorch's vectorized CPU `.to(torch.bfloat16)`. */
export function toBf16(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 → float16 bits, round to nearest even with subnormals, overflow to ±inf, NaN → ±0x7E00 (c10's fp16_ieee_from_fp32_value). */
export function toF16(x: number): number {
  const w = bitsOf(x), sign = (w & 0x80000000) >>> 16, shl1 = (w * 2) % 2 ** 32;
  if (shl1 > 0xff000000) return sign | 0x7e00;                                  // NaN
  let base = Math.fround(Math.fround(Math.abs(Math.fround(x)) * 2 ** 112) * 2 ** -110);
  let bias = shl1 & 0xff000000;
  if (bias >>> 0 < 0x71000000) bias = 0x71000000;
  base = Math.fround(fromBits(((bias >>> 1) + 0x07800000) >>> 0) + base);
  const bits = bitsOf(base);
  return sign | (((bits >>> 13) & 0x7c00) + (bits & 0x0fff));
}

/** Encodes n float32 values from src[at …] into `out` as dtype. */
function encodeInto(src: Float32Array, at: number, n: number, dtype: SaveDType, out: Uint8Array): void {
  if (dtype === 'f32') { out.set(new Uint8Array(src.buffer, src.byteOffset + 4 * at, 4 * n)); return; }   // little-endian host
  const o = new Uint16Array(out.buffer, out.byteOffset, n), s = new Uint32Array(src.buffer, src.byteOffset + 4 * at, n);
  if (dtype === 'bf16') for (let i = 0; i < n; i++) o[i] = toBf16(s[i]);
  else for (let i = 0; i < n; i++) o[i] = toF16(src[at + i]);
}

/** The header bytes (names sorted, 8-byte aligned as the reference writer) and the data size. */
function buildHeader(tensors: readonly { name: string; shape: number[] }[], dtype: SaveDType, metadata: Record<string, string>): { header: Uint8Array; order: string[]; dataBytes: number } {
  const order = tensors.map((t) => t.name).sort();
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let off = 0;
  for (const n of order) {
    const t = byName.get(n)!, bytes = SAVE_BYTES[dtype] * t.shape.reduce((a, x) => a * x, 1);
    header[n] = { dtype: ST_NAME[dtype], shape: t.shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const hb = Buffer.from(json);
  const out = new Uint8Array(8 + hb.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  return { header: out, order, dataBytes: off };
}

/** Serializes float32 tensors in memory (sorted by name, 8-byte aligned header), stored as `dtype` (default F32). */
export function serializeSafetensors(tensors: Map<string, { shape: number[]; data: Float32Array }>, metadata: Record<string, string> = {}, dtype: SaveDType = 'f32'): Uint8Array {
  checkHost();
  const { header, order, dataBytes } = buildHeader([...tensors].map(([name, t]) => ({ name, shape: t.shape })), dtype, metadata);
  const out = new Uint8Array(header.length + dataBytes);
  out.set(header, 0);
  let at = header.length;
  for (const n of order) {
    const d = tensors.get(n)!.data;
    encodeInto(d, 0, d.length, dtype, out.subarray(at, at + SAVE_BYTES[dtype] * d.length));
    at += SAVE_BYTES[dtype] * d.length;
  }
  return out;
}

/**
 * Writes a safetensors file all or nothing (to `file.tmp-PID`, fsync, rename), one tensor at a
 * time, encoding in chunks: memory beyond the model is one tensor's data() and one chunk.
 * Returns the bytes of tensor data written.
 */
export function writeSafetensors(file: string, tensors: readonly TensorSource[], o: { dtype?: SaveDType; metadata?: Record<string, string> } = {}): number {
  checkHost();
  const dtype = o.dtype ?? 'f32', size = SAVE_BYTES[dtype];
  const { header, order, dataBytes } = buildHeader(tensors, dtype, o.metadata ?? {});
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const tmp = `${file}.tmp-${process.pid}`;
  crashPoint();
  const fd = openSync(tmp, 'w');
  try {
    const write = (b: Uint8Array) => { let at = 0; while (at < b.length) at += writeSync(fd, b, at, b.length - at); };
    write(header);
    const chunk = new Uint8Array(Math.min(CHUNK, Math.max(8, dataBytes)));
    for (const n of order) {
      const d = byName.get(n)!.data();
      const per = Math.floor(chunk.length / size);
      for (let at = 0; at < d.length; at += per) {
        const k = Math.min(per, d.length - at);
        encodeInto(d, at, k, dtype, chunk);
        write(chunk.subarray(0, k * size));
      }
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  crashPoint();
  renameSync(tmp, file);
  return dataBytes;
}
