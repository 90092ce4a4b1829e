import { readFileSync } from 'node:fs';
import { CheckpointError } from '../errors.ts';
import { parseJson, show } from '../util/json.ts';

/**
 * safetensors: 8-byte little-endian header length N, N bytes of JSON header
 * ({name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {str: str}}), then the
 * raw little-endian data; offsets are relative to the end of the header.
 */

export type StDType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I32' | 'I64';
const BYTES: Record<StDType, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I32: 4, I64: 8 };

export interface StTensor { dtype: StDType; shape: number[]; data: Float32Array }
export interface StFile { tensors: Map<string, StTensor>; metadata: Record<string, string> }

/** Largest header we accept (the format's own reference limit is 100 MB). */
const MAX_HEADER = 100_000_000;
/** Most dimensions a tensor may have (PyTorch's own limit is 64). */
const MAX_DIMS = 64;


/** Parses and fully validates a safetensors buffer; every tensor is returned as float32. */
export function parseSafetensors(buf: Uint8Array, file = '<buffer>'): StFile {
  const fail = (msg: string, field?: string): never => { throw new CheckpointError(msg, { file, field }); };
  if (buf.length < 8) fail(`file is ${buf.length} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > buf.length) fail(`header length ${n} does not fit the ${buf.length}-byte file`);
  let text: string;
  try { text = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + n)); } catch (cause) {
    throw new CheckpointError('header is not valid UTF-8', { file }, { cause });
  }
  const header = parseJson(text, (msg, e) => { throw new CheckpointError(`header: ${msg}`, { file }, e && { cause: e.cause }); }) as Record<string, unknown>;
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + n, dataLen = buf.length - dataStart;
  const tensors = new Map<string, StTensor>();
  let metadata: Record<string, string> = {};
  const spans: Array<[number, number, string]> = [];
  const entries: { name: string; dtype: StDType; shape: number[]; b: number; en: number; count: number }[] = [];
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
    if (!(typeof dtype === 'string' && dtype in BYTES)) fail(`unsupported dtype ${show(e.dtype)}`, `${name}.dtype`);
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
    entries.push({ name: key, dtype, shape: shape as number[], b, en, count });
  }
  // every entry checked and no two spans overlapping before a single buffer is made: a header of
  // many entries over one span cannot make the reader allocate more than the file's size
  spans.sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) fail(`tensor data overlaps "${spans[i - 1][2]}"`, `${spans[i][2]}.data_offsets`);
  }
  for (const t of entries) tensors.set(t.name, { dtype: t.dtype, shape: t.shape, data: decode(buf.subarray(dataStart + t.b, dataStart + t.en), t.dtype, t.count) });
  return { tensors, metadata };
}

function decode(bytes: Uint8Array, dtype: StDType, count: number): Float32Array {
  const out = new Float32Array(count);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': for (let i = 0; i < count; i++) out[i] = dv.getFloat32(4 * i, true); break;
    case 'F64': for (let i = 0; i < count; i++) out[i] = dv.getFloat64(8 * i, true); break;
    case 'I32': for (let i = 0; i < count; i++) out[i] = dv.getInt32(4 * i, true); break;
    case 'I64': for (let i = 0; i < count; i++) out[i] = Number(dv.getBigInt64(8 * i, true)); break;
    case 'F16': for (let i = 0; i < count; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true)); break;
    case 'BF16': {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u[i] = dv.getUint16(2 * i, true) << 16;
      break;
    }
  }
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

export function readSafetensors(file: string): StFile {
  let buf: Buffer;
  try { buf = readFileSync(file); } catch (e) {
    throw new CheckpointError(`cannot read: ${(e as Error).message}`, { file }, { cause: e });
  }
  return parseSafetensors(buf, file);
}

/** Serializes float32 tensors (sorted by name, 8-byte aligned header as the reference writer). */
export function serializeSafetensors(tensors: Map<string, { shape: number[]; data: Float32Array }>, metadata: Record<string, string> = {}): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let off = 0;
  for (const n of names) {
    const t = tensors.get(n)!;
    header[n] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + 4 * t.data.length] };
    off += 4 * t.data.length;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const hb = Buffer.from(json);
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let at = 8 + hb.length;
  for (const n of names) {
    const d = tensors.get(n)!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);   // little-endian host
    at += d.byteLength;
  }
  return out;
}

