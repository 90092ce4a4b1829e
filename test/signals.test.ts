/**
 * SIGINT mid-run: the run finishes its step, saves its state, prints the resume command and exits
 * 130; resumed, it ends bit-identical to an uninterrupted run. (scripts/crash-test.ts does this
 * many times, and SIGKILL at random moments and at each write.)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createJsBackend } from '../src/backend/js/index.ts';
import { saveModel } from '../src/model/checkpoint.ts';
import { GPT } from '../src/model/gpt.ts';
import { micro } from '../src/model/presets.ts';
import { toHfJson } from '../src/tokenizer/hf-json.ts';
import { trainBpe } from '../src/tokenizer/train.ts';
import { Rng } from '../src/util/rng.ts';

const ROOT = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'fmn-signals-'));
const rows = ['He goed home.|He went home. (correction)', 'She eated lunch.|She ate lunch. (correction)', 'They saw it.|They saw it. (correct)'];

beforeAll(() => {
  const tok = trainBpe(rows.map((r) => r.replace('|', ' ')), { vocabSize: 280 });
  const model = new GPT(createJsBackend(), { ...micro(tok.vocabSize), nCtx: 32 });
  model.initWeights(new Rng(1));
  saveModel(model, join(dir, 'base'), { tokenizerJson: JSON.stringify(toHfJson(tok)) });
  writeFileSync(join(dir, 'sft.jsonl'), rows.map((r) => { const [prompt, completion] = r.split('|'); return JSON.stringify({ prompt, completion }); }).join('\n') + '\n');
});

const args = (out: string) => ['finetune', '--base', join(dir, 'base'), '--data', join(dir, 'sft.jsonl'), '--out', out, '--rank', '4', '--lr', '0.01',
  '--steps', '400', '--batch', '3', '--save-every', '1000', '--log-every', '1', '--threads', '1', '--quiet'];
const fmn = (...a: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'fmn.js'), ...a], { encoding: 'utf8', timeout: 240_000 });
const lines = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter((l) => l !== '') : []);

describe('signals', () => {
  it('SIGINT: the step finishes, the state is saved, exit 130 with the resume command; resumed, the run is bit-identical', async () => {
    const whole = join(dir, 'whole');
    expect(fmn(...args(whole)).status).toBe(0);

    const cut = join(dir, 'cut');
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'fmn.js'), ...args(cut)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    // interrupt once a few steps are logged
    await new Promise<void>((resolve) => {
      const t = setInterval(() => { if (lines(join(cut, 'metrics.jsonl')).length >= 20) { clearInterval(t); child.kill('SIGINT'); resolve(); } }, 20);
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(130);
    expect(stderr).toContain('SIGINT: finishing the current step');
    expect(stderr).toMatch(/interrupted at step \d+, state saved\. Continue with:\n {2}fmn finetune .* --resume/);
    expect(readdirSync(join(cut, 'checkpoints')).length).toBe(1);
    const stopped = lines(join(cut, 'metrics.jsonl')).length;
    expect(stopped).toBeLessThan(400);

    const r = fmn(...args(cut), '--resume');
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(cut, 'adapter_model.safetensors')).equals(readFileSync(join(whole, 'adapter_model.safetensors')))).toBe(true);
    const strip = (f: string) => lines(f).map((l) => { const { tokens_per_s: _, ...rest } = JSON.parse(l); return rest; });
    expect(strip(join(cut, 'metrics.jsonl'))).toEqual(strip(join(whole, 'metrics.jsonl')));
    expect(readdirSync(cut).filter((n) => n.includes('.tmp-'))).toEqual([]);
  }, 300_000);

  it('a second writer is refused while a run is live, and --out on a finished run needs --resume or --overwrite', async () => {
    const out = join(dir, 'busy');
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'fmn.js'), ...args(out).map((a) => (a === '400' ? '100000' : a))], { stdio: 'ignore' });
    await new Promise<void>((resolve) => { const t = setInterval(() => { if (lines(join(out, 'metrics.jsonl')).length >= 2) { clearInterval(t); resolve(); } }, 20); });
    const second = fmn(...args(out));
    const resume = fmn(...args(out), '--resume');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    expect(second.status, second.stderr).toBe(2);
    expect(second.stderr).toMatch(/another fmn \(pid \d+ on .*\) is writing this run/);
    expect(resume.status).toBe(2);
    expect(resume.stderr).toContain('is writing this run');
    const again = fmn(...args(out));                  // the killed run: its directory holds a run now
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('already holds a run; continue it with --resume or replace it with --overwrite');
  }, 300_000);
});
