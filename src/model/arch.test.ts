import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createJsBackend } from '../backend/js/index.ts';
import type { Backend } from '../backend/backend.ts';
import { loadNativeBackend } from '../backend/native/index.ts';
import { CheckpointError, ConfigError, isUserError } from '../errors.ts';
import { crossEntropy } from '../tensor/ops/loss.ts';
import { noGrad } from '../tensor/tensor.ts';
import { targetLinears } from '../lora/inject.ts';
import { relErr } from '../../test/util.ts';
import { loadModel, readModelConfig, saveModel, stateDict } from './checkpoint.ts';
import { configParams, fromHfConfig, linearShapes, toHfConfig, type GPTConfig } from './config.ts';
import { GPT, rotaryOf } from './gpt.ts';
import { readSafetensors, SafetensorsReader, toBf16, toF16 } from './safetensors.ts';
import { rope } from '../tensor/ops/rope.ts';
import { rotary } from '../tensor/ops/rope.ts';
import { erf, geluExact } from '../nn/gelu.ts';
import { gradCheck, randTensor, testRng } from '../../test/util.ts';

const ARCH = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'arch');
const tmp = mkdtempSync(join(tmpdir(), 'fmn-arch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const backends: [string, () => Backend | null][] = [
  ['js', () => createJsBackend()],
  ['native', () => { try { return loadNativeBackend(); } catch { return null; } }],
];
const MODELS = ['llama', 'llama-untied', 'llama-bf16', 'llama-bf16-sharded', 'qwen2', 'gpt_neox', 'gpt_neox-seq'];
const refOf = (name: string) => readSafetensors(join(ARCH, name === 'llama-bf16-sharded' ? 'llama-bf16' : name, 'reference.safetensors')).tensors;
const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const sha = (a: Float32Array) => createHash('sha256').update(bits(a)).digest('hex');

describe.each(backends)('architectures against the PyTorch reference (%s backend)', (bname, make) => {
  const be = make();
  for (const name of MODELS) {
    it.skipIf(be === null)(`${name}: logits (relative error ≤ 1e-4) and loss`, () => {
      const model = loadModel(join(ARCH, name), be!);
      const ref = refOf(name);
      const [B, T] = ref.get('ids')!.shape;
      const logits = model.forward(Int32Array.from(ref.get('ids')!.data), B, T);
      const err = relErr(logits.data, ref.get('logits')!.data);
      console.log(`${bname} ${name}: logits max rel err ${err.toExponential(2)}`);
      expect(err).toBeLessThan(1e-4);
      const loss = crossEntropy(logits, Int32Array.from(ref.get('targets')!.data)).item();
      expect(Math.abs(loss - ref.get('loss')!.data[0]) / ref.get('loss')!.data[0]).toBeLessThan(1e-5);
    });
  }
});

describe('the reference tests can fail: each option changes the logits well past 1e-4', () => {
  const be = createJsBackend();
  const logitsWith = (name: string, change: Partial<GPTConfig>): number => {
    const m = loadModel(join(ARCH, name), be);
    const altered = new GPT(be, { ...m.config, ...change });
    const own = new Map(altered.namedParameters());
    for (const [n, p] of m.namedParameters()) own.get(n)!.data.set(p.data);
    const ref = refOf(name);
    const [B, T] = ref.get('ids')!.shape;
    return relErr(noGrad(() => altered.forward(Int32Array.from(ref.get('ids')!.data), B, T).data), ref.get('logits')!.data);
  };
  it('llama3 rope_scaling, exact GELU, partial rotary, parallel residual', () => {
    expect(logitsWith('llama', { ropeScaling: undefined })).toBeGreaterThan(1e-3);
    expect(logitsWith('gpt_neox', { hiddenAct: 'gelu_tanh' })).toBeGreaterThan(1e-4);
    expect(logitsWith('gpt_neox', { rotaryPct: 1 })).toBeGreaterThan(1e-3);
    expect(logitsWith('gpt_neox', { parallelResidual: false })).toBeGreaterThan(1e-3);
  });
});

describe('weights: F32 / BF16 / F16 storage, shards', () => {
  const be = createJsBackend();
  it.each(['llama-bf16', 'qwen2'])('%s: every stored tensor loads to exactly the float32 bits of torch\'s .float()', (name) => {
    const want = JSON.parse(readFileSync(join(ARCH, name, 'float32.sha256.json'), 'utf8')) as Record<string, string>;
    const got = stateDict(loadModel(join(ARCH, name), be));   // back in HF layout
    expect([...got.keys()].sort()).toEqual(Object.keys(want).sort());
    for (const [k, t] of got) expect(sha(t.data), k).toBe(want[k]);
  });

  it('the sharded checkpoint loads bit for bit as the single file', () => {
    const a = loadModel(join(ARCH, 'llama-bf16'), be), b = loadModel(join(ARCH, 'llama-bf16-sharded'), be);
    const pb = new Map(b.namedParameters());
    for (const [n, t] of a.namedParameters()) expect(bits(pb.get(n)!.data as Float32Array).equals(bits(t.data as Float32Array)), n).toBe(true);
  });

  it('float16 / bfloat16 → float32 bit for bit as torch (subnormals, ±0, ±inf, NaN payloads)', () => {
    const t = readSafetensors(join(ARCH, 'dtypes.safetensors')).tensors;
    for (const k of ['f16', 'bf16']) {
      const got = new Uint32Array(t.get(k)!.data.buffer);
      const want = Uint32Array.from(t.get(`${k}.float_bits`)!.data, (x) => x >>> 0);
      expect([...got].map((x) => x.toString(16)), k).toEqual([...want].map((x) => x.toString(16)));
    }
  });

  it('float32 → bfloat16 / float16 rounds as torch (nearest even, subnormals, overflow, NaN)', () => {
    const t = readSafetensors(join(ARCH, 'dtypes.safetensors')).tensors;
    const src = Uint32Array.from(t.get('f32_bits')!.data, (x) => x >>> 0);
    const f = new Float32Array(src.buffer);
    const bf = Array.from(src, (b) => toBf16(b).toString(16)), f16 = Array.from(f, (x) => toF16(x).toString(16));
    expect(bf).toEqual(Array.from(t.get('f32.bf16_bits')!.data, (x) => x.toString(16)));
    expect(f16).toEqual(Array.from(t.get('f32.f16_bits')!.data, (x) => x.toString(16)));
  });

  it('saveModel writes the HF layout in the dtype asked: bf16 of bf16-exact weights = the reference file\'s bytes, tensor by tensor', () => {
    const m = loadModel(join(ARCH, 'llama-bf16'), be);
    const out = join(tmp, 'resaved-bf16');
    saveModel(m, out, { dtype: 'bf16' });
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).torch_dtype).toBe('bfloat16');
    const raw = (file: string) => {
      const r = SafetensorsReader.open(file), buf = readFileSync(file);
      try { return new Map([...r.header.entries].map(([n, e]) => [n, { dtype: e.dtype, shape: e.shape, bytes: buf.subarray(r.header.dataStart + e.begin, r.header.dataStart + e.end) }])); } finally { r.close(); }
    };
    const ours = raw(join(out, 'model.safetensors')), theirs = raw(join(ARCH, 'llama-bf16', 'model.safetensors'));
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [n, e] of theirs) {
      expect(ours.get(n)!.dtype, n).toBe('BF16');
      expect(ours.get(n)!.shape, n).toEqual(e.shape);
      expect(Buffer.compare(ours.get(n)!.bytes, e.bytes), n).toBe(0);
    }
    const back = loadModel(out, be);
    expect(back.config).toEqual(m.config);
  });

  it('f16 output, sharded output with an index, and a later unsharded save removes the shards', () => {
    const m = loadModel(join(ARCH, 'gpt_neox'), be);
    const out = join(tmp, 'sharded');
    saveModel(m, out, { dtype: 'f16', maxShardBytes: 20_000 });
    const files = readdirSync(out).sort();
    const shards = files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f));
    expect(shards.length).toBeGreaterThan(2);
    expect(files).not.toContain('model.safetensors');
    const index = JSON.parse(readFileSync(join(out, 'model.safetensors.index.json'), 'utf8'));
    expect(new Set(Object.values(index.weight_map))).toEqual(new Set(shards));
    expect(Object.keys(index.weight_map).sort()).toEqual([...stateDict(m).keys()].sort());
    let total = 0;
    for (const s of shards) {
      const r = SafetensorsReader.open(join(out, s));
      try {
        let bytes = 0;
        for (const e of r.header.entries.values()) { expect(e.dtype).toBe('F16'); bytes += e.end - e.begin; }
        // a shard passes the limit only when it holds one tensor larger than the limit
        expect(bytes <= 20_000 || r.header.entries.size === 1).toBe(true);
        total += bytes;
      } finally { r.close(); }
    }
    expect(index.metadata.total_size).toBe(total);
    const back = loadModel(out, be);
    const want = stateDict(m), got = stateDict(back);
    for (const [k, t] of want) {
      const rounded = Float32Array.from(t.data, (x) => { const h = toF16(x); return halfToNumber(h); });
      expect(bits(got.get(k)!.data).equals(bits(rounded)), k).toBe(true);
    }
    saveModel(m, out);
    expect(readdirSync(out).sort()).toEqual(['config.json', 'model.safetensors']);
    const again = loadModel(out, be);
    for (const [k, t] of stateDict(again)) expect(bits(t.data).equals(bits(want.get(k)!.data)), k).toBe(true);
  });

  it('saveModel refuses an unknown dtype or a shard size that is not a positive integer, before writing anything', () => {
    const m = loadModel(join(ARCH, 'gpt_neox-seq'), be);
    const out = join(tmp, 'bad-opts');
    expect(() => saveModel(m, out, { dtype: 'f8' as 'f32' })).toThrow(/field "dtype": must be f32, bf16 or f16, got "f8"/);
    expect(() => saveModel(m, out, { maxShardBytes: 0 })).toThrow(/field "maxShardBytes": must be a positive integer, got 0/);
    expect(existsSync(out)).toBe(false);
  });

  it('bad indexes and shards are CheckpointErrors naming the file and the tensor', () => {
    const dir = join(tmp, 'bad-index');
    cpSync(join(ARCH, 'llama-bf16-sharded'), dir, { recursive: true });
    const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8'));
    const write = (j: unknown) => writeFileSync(join(dir, 'model.safetensors.index.json'), typeof j === 'string' ? j : JSON.stringify(j));
    const expectErr = (re: RegExp) => {
      let err: unknown;
      try { loadModel(dir, be); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(CheckpointError);
      expect(isUserError(err)).toBe(true);
      expect((err as Error).message).toMatch(re);
    };
    write({ ...index, weight_map: { ...index.weight_map, 'model.norm.weight': 'model-00009-of-00009.safetensors' } });
    expectErr(/model-00009-of-00009\.safetensors: cannot read: no such file/);
    write({ ...index, weight_map: { ...index.weight_map, 'model.norm.weight': '../llama/model.safetensors' } });
    expectErr(/index\.json, field "weight_map\.model\.norm\.weight": must be the name of a file beside the index/);
    const first = Object.keys(index.weight_map)[0], other = index.weight_map[first] === 'model-00001-of-00003.safetensors' ? 'model-00002-of-00003.safetensors' : 'model-00001-of-00003.safetensors';
    write({ ...index, weight_map: { ...index.weight_map, [first]: other } });
    expectErr(new RegExp(`${other.replace(/\./g, '\\.')}, field "${first.replace(/\./g, '\\.')}": listed in model\\.safetensors\\.index\\.json but not in this shard`));
    const { 'model.norm.weight': _, ...rest } = index.weight_map;
    write({ ...index, weight_map: rest });
    expectErr(/index\.json, field "model\.norm\.weight": missing tensor/);
    write({ weight_map: [] });
    expectErr(/field "weight_map": must be an object/);
    write('{"weight_map": ');
    expectErr(/index\.json/);
    // a shard cut short: its header no longer fits
    write(index);
    writeFileSync(join(dir, 'model-00002-of-00003.safetensors'), readFileSync(join(ARCH, 'llama-bf16-sharded', 'model-00002-of-00003.safetensors')).subarray(0, 5000));
    expectErr(/model-00002-of-00003\.safetensors, field ".*\.data_offsets": data_offsets \[\d+, \d+\] outside the \d+-byte data section/);
    rmSync(join(dir, 'model.safetensors.index.json'));
    expectErr(/model\.safetensors: cannot read: no such file/);
  });

  it('a config.json describing more than the shards hold is refused before anything is built', () => {
    const dir = join(tmp, 'big-sharded');
    cpSync(join(ARCH, 'llama-bf16-sharded'), dir, { recursive: true });
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: 100000 }));
    expect(() => loadModel(dir, be)).toThrow(/config\.json describes [\d,]+ parameters, more than the [\d,]+-byte weights files can hold/);
  });

  it('unused tensors of any dtype (old Pythia buffers: BOOL masks) are skipped, never decoded', () => {
    const r = SafetensorsReader.open(join(ARCH, 'gpt_neox', 'model.safetensors'));
    try { expect(r.header.entries.get('gpt_neox.layers.0.attention.bias')!.dtype).toBe('BOOL'); } finally { r.close(); }
    expect(() => loadModel(join(ARCH, 'gpt_neox'), be)).not.toThrow();
  });
});

/** float16 bits → number (for the round-trip check; the loader's own table is tested against torch above). */
function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

describe('config.json of every architecture', () => {
  const be = createJsBackend();
  it.each(MODELS)('%s: fromHfConfig ∘ toHfConfig is the identity; sizes counted without building', (name) => {
    const c = readModelConfig(join(ARCH, name));
    expect(fromHfConfig(toHfConfig(c))).toEqual(c);
    const m = new GPT(be, c);
    expect(configParams(c)).toBe(m.numParams());
    const built = targetLinears(m, new Set(['c_attn', 'c_proj', 'c_fc', 'q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj',
      'query_key_value', 'dense', 'dense_h_to_4h', 'dense_4h_to_h'])).map((l) => ({ path: l.path, in: l.linear.inFeatures, out: l.linear.outFeatures }));
    expect(linearShapes(c)).toEqual(built);
  });

  it('what each fixture config resolves to', () => {
    expect(readModelConfig(join(ARCH, 'llama'))).toMatchObject({ modelType: 'llama', nKvHead: 1, tieWordEmbeddings: true, ropeTheta: 100,
      ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 } });
    expect(readModelConfig(join(ARCH, 'llama-untied'))).toMatchObject({ tieWordEmbeddings: false, attentionBias: true, mlpBias: true, ropeTheta: 500000 });
    expect(readModelConfig(join(ARCH, 'qwen2'))).toMatchObject({ modelType: 'qwen2', ropeTheta: 1e6, tieWordEmbeddings: true });
    expect(readModelConfig(join(ARCH, 'gpt_neox'))).toMatchObject({ modelType: 'gpt_neox', rotaryPct: 0.5, tieWordEmbeddings: false });
    expect(readModelConfig(join(ARCH, 'gpt_neox-seq'))).toMatchObject({ parallelResidual: false, hiddenAct: 'gelu_tanh', tieWordEmbeddings: true });
    // the parameter names are the checkpoint's
    const neox = new GPT(be, readModelConfig(join(ARCH, 'gpt_neox')));
    expect(neox.namedParameters().map(([n]) => n).filter((n) => !n.includes('layers.1.'))).toEqual([
      'gpt_neox.embed_in.weight',
      ...['input_layernorm.weight', 'input_layernorm.bias', 'attention.query_key_value.weight', 'attention.query_key_value.bias',
        'attention.dense.weight', 'attention.dense.bias', 'post_attention_layernorm.weight', 'post_attention_layernorm.bias',
        'mlp.dense_h_to_4h.weight', 'mlp.dense_h_to_4h.bias', 'mlp.dense_4h_to_h.weight', 'mlp.dense_4h_to_h.bias'].map((s) => `gpt_neox.layers.0.${s}`),
      'gpt_neox.final_layer_norm.weight', 'gpt_neox.final_layer_norm.bias', 'embed_out.weight']);
  });

  const base = (): Record<string, unknown> => JSON.parse(readFileSync(join(ARCH, 'qwen2', 'config.json'), 'utf8'));
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['an unknown model_type', { model_type: 'mistral' }, /field "model_type": unsupported model_type "mistral" \(supported: gpt2, llama, qwen2, gpt_neox\)/],
    ['linear rope_scaling', { rope_scaling: { rope_type: 'linear', factor: 2 } }, /field "rope_scaling\.rope_type": unsupported RoPE scaling "linear" \(supported: llama3, default\)/],
    ['yarn rope_scaling (old "type" key)', { rope_scaling: { type: 'yarn', factor: 4 } }, /field "rope_scaling\.type": unsupported RoPE scaling "yarn"/],
    ['llama3 scaling without its numbers', { rope_scaling: { rope_type: 'llama3', factor: 8 } }, /field "rope_scaling\.low_freq_factor": must be a number > 0, got undefined/],
    ['llama3 high ≤ low', { rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 4, high_freq_factor: 1, original_max_position_embeddings: 64 } }, /field "rope_scaling\.high_freq_factor": must be greater than low_freq_factor 4/],
    ['sliding window in use', { use_sliding_window: true, sliding_window: 32, max_window_layers: 1 }, /field "use_sliding_window": sliding-window attention \(sliding_window 32 on layers from max_window_layers 1\) is not supported/],
    ['a head_dim of its own', { head_dim: 16 }, /field "head_dim": 16 differs from hidden_size \/ num_attention_heads = 8: not supported/],
    ['another activation', { hidden_act: 'gelu' }, /field "hidden_act": unsupported activation "gelu" \(supported: silu, swish\)/],
    ['a quantized checkpoint', { quantization_config: { quant_method: 'gptq' } }, /field "quantization_config": quantized checkpoints are not supported/],
    ['a string for a flag', { tie_word_embeddings: 'yes' }, /field "tie_word_embeddings": must be true or false, got "yes"/],
  ];
  it.each(cases)('%s is one ConfigError naming the file and key', (_, change, re) => {
    const dir = join(tmp, `cfg-${Math.random().toString(36).slice(2)}`);
    cpSync(join(ARCH, 'qwen2'), dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...base(), ...change }));
    let err: unknown;
    try { loadModel(dir, be); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(join(dir, 'config.json'));
    expect((err as Error).message).toMatch(re);
  });

  it('sliding_window present but not in use (no layer past max_window_layers, or window ≥ context) loads', () => {
    expect(fromHfConfig({ ...base(), use_sliding_window: true, sliding_window: 32, max_window_layers: 28 }).modelType).toBe('qwen2');
    expect(fromHfConfig({ ...base(), use_sliding_window: true, sliding_window: 4096, max_window_layers: 0 }).modelType).toBe('qwen2');
  });

  it('gpt_neox: a rotary_pct that leaves an odd number of rotating features is refused', () => {
    const j = JSON.parse(readFileSync(join(ARCH, 'gpt_neox', 'config.json'), 'utf8'));
    expect(() => new GPT(be, fromHfConfig({ ...j, rotary_pct: 0.375 }, 'c.json'))).toThrow(/field "rotary_pct": gives 3 rotary features of the head size 8/);
    expect(() => new GPT(be, fromHfConfig({ ...j, hidden_act: 'relu' }, 'c.json'))).toThrow(/c\.json, field "hidden_act": unsupported activation "relu"/);
  });
});

describe('incremental decoding (KV cache) for every architecture', () => {
  const be = createJsBackend();
  it.each(MODELS.filter((m) => !m.includes('sharded')))('%s: step() = forward at every position, prompt then one token at a time', (name) => {
    const m = loadModel(join(ARCH, name), be);
    const V = m.config.vocabSize, B = 2, T = 10;
    const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 31 + 7) % V);
    noGrad(() => {
      const full = m.forward(ids, B, T).data;
      const cache = m.newCache(B, T);
      const P = 3;
      let got = m.step(Int32Array.from({ length: B * P }, (_, i) => ids[Math.floor(i / P) * T + (i % P)]), cache, P);
      let worst = 0;
      for (let t = P - 1; t < T; t++) {
        if (t >= P) got = m.step(Int32Array.from({ length: B }, (_, b) => ids[b * T + t]), cache);
        for (let b = 0; b < B; b++) for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(got[b * V + v] - full[(b * T + t) * V + v]));
      }
      expect(worst).toBeLessThan(2e-5);
    });
  });
});

describe('new ops', () => {
  const be = createJsBackend();
  it('rotary with θ^(−2d/hs) over the whole head is HF\'s rotate_half formula, bit for bit, as rope and the llama config give it', () => {
    const [B, T, nh, hs, offset] = [2, 5, 3, 8, 4];
    const x = randTensor(be, [B, T, nh * hs], testRng(3), 'f32');
    for (const theta of [10000, 500000]) {
      // the formula, written out: y[d] = x[d]·cos − x[d+h]·sin, y[d+h] = x[d+h]·cos + x[d]·sin
      const X = x.data, want = new Float32Array(X.length), half = hs / 2;
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let h = 0; h < nh; h++) {
        const o = (b * T + t) * nh * hs + h * hs;
        for (let d = 0; d < half; d++) {
          const a = (offset + t) * Math.pow(theta, (-2 * d) / hs), c = Math.cos(a), s = Math.sin(a);
          want[o + d] = X[o + d] * c - X[o + d + half] * s;
          want[o + d + half] = X[o + d + half] * c + X[o + d] * s;
        }
      }
      const viaConfig = rotary(x, nh, rotaryOf({ modelType: 'llama', nEmbd: nh * hs, nHead: nh, ropeTheta: theta } as GPTConfig), offset).data;
      expect(bits(viaConfig as Float32Array).equals(bits(want))).toBe(true);
      expect(bits(rope(x, nh, theta, offset).data as Float32Array).equals(bits(want))).toBe(true);
    }
  });
  it('partial rotary and exact GELU: gradients match finite differences (float64)', () => {
    const rnd = testRng(9);
    const x = randTensor(be, [2, 3, 12], rnd);
    x.requiresGrad = true;
    const r = rotaryOf({ modelType: 'gpt_neox', nEmbd: 12, nHead: 2, ropeTheta: 100, rotaryPct: 0.34 } as GPTConfig);
    expect(r.dim).toBe(2);
    expect(gradCheck(([a]) => rotary(a, 2, r, 3), [x], rnd)).toBeLessThan(1e-6);
    const y = randTensor(be, [3, 7], rnd, 'f64', -4, 4);
    y.requiresGrad = true;
    expect(gradCheck(([a]) => geluExact(a), [y], rnd)).toBeLessThan(1e-6);
  });
  it('erf agrees with known values to the last bit or two', () => {
    // Python math.erf
    const cases: [number, number][] = [[0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [1.5, 0.9661051464753108],
      [2.5, 0.999593047982555], [3.5, 0.9999992569016276], [-0.9, -0.7969082124228322], [6.5, 1]];
    for (const [x, want] of cases) expect(Math.abs(erf(x) - want)).toBeLessThanOrEqual(2 * Number.EPSILON * Math.abs(want));
  });
});

describe('llama3 frequencies', () => {
  it('keep the high band, divide the low band by factor, interpolate between (Meta\'s apply_scaling)', () => {
    const base = { modelType: 'llama', nEmbd: 40, nHead: 5, ropeTheta: 100 } as GPTConfig;
    const plain = rotaryOf(base).invFreq;
    const scaled = rotaryOf({ ...base, ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 } }).invFreq;
    // θ 100, head 8: wavelengths 6.3 (< 16: kept), 19.9 and 62.8 (between 16 and 64: interpolated), 199 (> 64: ÷ 8)
    expect(scaled[0]).toBe(plain[0]);
    for (const d of [1, 2]) { expect(scaled[d]).toBeLessThan(plain[d]); expect(scaled[d]).toBeGreaterThan(plain[d] / 8); }
    expect(scaled[3]).toBeCloseTo(plain[3] / 8, 15);
    const smooth = (64 / ((2 * Math.PI) / plain[1]) - 1) / 3;
    expect(scaled[1]).toBeCloseTo((1 - smooth) * plain[1] / 8 + smooth * plain[1], 15);
  });
});

it('fixtures are small and regenerable', () => {
  let total = 0;
  const walk = (d: string) => { for (const f of readdirSync(d, { withFileTypes: true })) { if (f.isDirectory()) walk(join(d, f.name)); else total += readFileSync(join(d, f.name)).length; } };
  walk(ARCH);
  expect(total).toBeLessThan(1 << 20);
  expect(existsSync(join(import.meta.dirname, '..', '..', 'scripts', 'torch_arch_reference.py'))).toBe(true);
});
