import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../errors.ts';
import { EOT, SEP } from '../tokenizer/special.ts';
import { checkCorpus } from './check.ts';
import { buildCorpus, CORPUS_FILES, writeCorpus } from './corpus.ts';
import { poolOf } from './heldout.ts';
import { parseJsonl } from '../data/jsonl.ts';
import { parseProbes } from '../data/probes.ts';
import { generatePretrain } from './pretrain.ts';
import { generateSft } from './sft.ts';

const SMALL = { pretrain: { tokens: 40_000 }, replay: { tokens: 20_000 }, sft: { rows: 400 } };

describe('verb corpus', () => {
  const a = buildCorpus({ seed: 11, ...SMALL });

  it('same seed ⇒ byte-identical files and manifest', () => {
    const b = buildCorpus({ seed: 11, ...SMALL });
    expect([...b.files.keys()]).toEqual([...CORPUS_FILES]);
    for (const [name, content] of a.files) expect(b.files.get(name), name).toBe(content);
    expect(JSON.stringify(b.manifest)).toBe(JSON.stringify(a.manifest));
  });

  it('another seed ⇒ different sentences, same statistics', () => {
    const c = buildCorpus({ seed: 12, ...SMALL });
    for (const name of CORPUS_FILES) expect(c.files.get(name), name).not.toBe(a.files.get(name));
    const { approxTokens: _a, ...statsA } = a.manifest.counts.pretrain;
    const { approxTokens: _c, ...statsC } = c.manifest.counts.pretrain;
    expect(statsC).toEqual(statsA);
    expect(Math.abs(_c - _a) / _a).toBeLessThan(0.02);
    expect(c.manifest.counts.sft).toEqual(a.manifest.counts.sft);
    expect(c.manifest.counts.probes).toEqual(a.manifest.counts.probes);
  });

  it('no probe sentence occurs in pretrain.txt, replay.txt or sft.jsonl', () => {
    for (const seed of [11, 12]) {
      const { files } = seed === 11 ? a : buildCorpus({ seed, ...SMALL });
      const training = files.get('pretrain.txt')! + files.get('replay.txt')! + files.get('sft.jsonl')!;
      const sentences = new Set<string>();
      for (const name of CORPUS_FILES.filter((f) => f.startsWith('probes/'))) {
        for (const item of parseProbes(files.get(name)!, name)) {
          if (item.kind === 'pair') [item.good, ...item.bad].forEach((s) => sentences.add(s));
          if (item.kind === 'text') sentences.add(item.text);
          if (item.kind === 'generate') {
            sentences.add(item.prompt.replace(SEP, ''));
            sentences.add(item.expected.replace(/ \(.*\)$/, ''));
          }
        }
      }
      expect(sentences.size).toBeGreaterThan(700);
      for (const s of sentences) expect(training.includes(s), s).toBe(false);
    }
  });

  it('probe files cover every verb and form with the documented kinds, roles and splits', () => {
    const load = (name: string) => parseProbes(a.files.get(name)!, name);
    for (const split of ['dev', 'test'] as const) {
      for (const [g, role] of [['task', 'task'], ['control', 'control'], ['adoption', 'adoption'], ['generalization', undefined], ['echo', undefined]] as const) {
        const items = load(`probes/${split}/${g}.jsonl`);
        expect(items.length, `${split}/${g}`).toBeGreaterThan(0);
        for (const it of items) expect([it.split, it.role, it.probe]).toEqual([split, role, g]);
      }
    }
    const task = load('probes/test/task.jsonl');
    const cells = new Set(task.map((t) => `${t.kind} ${t.tags['verb']} ${t.tags['form']}`));
    for (const verb of ['be', 'have', 'do', 'go', 'come', 'see', 'eat', 'write']) {
      for (const form of ['past', 'participle']) for (const kind of ['pair', 'generate']) expect(cells.has(`${kind} ${verb} ${form}`)).toBe(true);
    }
    expect(task).toContainEqual(expect.objectContaining({ kind: 'generate', prompt: expect.stringMatching(/<\|sep\|>$/), expected: expect.stringContaining('(correction: ') }));
    const adoption = load('probes/test/adoption.jsonl').filter((p) => p.kind === 'generate');
    for (const g of adoption) if (g.kind === 'generate') expect(g.expected).toBe(`${g.prompt.replace(SEP, '')} (correct)`);
    const control = load('probes/test/control.jsonl');
    expect(new Set(control.map((c) => c.tags['verb'])).size).toBe(12);
    for (const e of load('probes/test/echo.jsonl')) if (e.kind === 'generate') expect(e.prompt).toBe(e.expected + SEP);
  });

  it('dev and test are disjoint halves: no sentence, and no (verb, subject, complement, adverbial) combination, in both', () => {
    const texts = (split: string) => new Set(['task', 'control', 'adoption', 'generalization', 'echo'].flatMap((g) => parseProbes(a.files.get(`probes/${split}/${g}.jsonl`)!)
      .flatMap((p) => (p.kind === 'pair' ? [p.good, ...p.bad] : p.kind === 'text' ? [p.text] : p.kind === 'generate' ? [p.prompt, p.expected] : []))));
    const dev = texts('dev'), test = texts('test');
    expect([...dev].filter((t) => test.has(t))).toEqual([]);
    for (const v of [0, 3, 11]) for (const s of [0, 5, 9]) for (const c of [0, 1]) for (const d of [0, 2, 4]) {
      const pool = poolOf(v, s, c, d);
      expect(['train', 'dev', 'test']).toContain(pool);
    }
    // the pools are stable fractions of the held-out eighth
    let dv = 0, ts = 0, tr = 0;
    for (let v = 0; v < 20; v++) for (let s = 0; s < 16; s++) for (let c = 0; c < 5; c++) for (let d = 0; d < 5; d++) {
      const p = poolOf(v, s, c, d);
      if (p === 'dev') dv++; else if (p === 'test') ts++; else tr++;
    }
    expect((dv + ts) / (dv + ts + tr)).toBeCloseTo(1 / 8, 1);
    expect(Math.abs(dv - ts) / (dv + ts)).toBeLessThan(0.1);
  });

  it('the generalization probe uses arrangements the training text never has', () => {
    const gen = parseProbes(a.files.get('probes/test/generalization.jsonl')!);
    const arrangements = new Set(gen.map((g) => g.tags['arrangement']));
    expect([...arrangements].sort()).toEqual(['coordinated-subject', 'did-question', 'fronted-adverbial', 'subordinate-first']);
    const train = a.files.get('pretrain.txt')! + a.files.get('sft.jsonl')!;
    for (const g of gen) if (g.kind === 'pair') expect(train.includes(g.good), g.good).toBe(false);
    expect(train).not.toMatch(/\bDid [a-zA-Z ]+ (go|eat|see)\b/);
    expect(train).not.toMatch(/^(Yesterday|Last week), /m);
    // "Did … ?" pairs: the base form is right, the past and the over-regularized form are the errors
    const did = gen.find((g) => g.tags['arrangement'] === 'did-question' && g.kind === 'pair' && g.tags['verb'] === 'go');
    expect(did && did.kind === 'pair' && did.good).toMatch(/^Did .* go /);
    expect(did && did.kind === 'pair' && did.bad.join('|')).toMatch(/went.*\|.*goed/);
  });

  it('pretrain.txt: one document a line, English <|sep|> Spanish or echo, ending in <|endoftext|>', () => {
    const all = a.files.get('pretrain.txt')!.trimEnd().split('\n');
    expect(all).toHaveLength(a.manifest.counts.pretrain.lines);
    // grammar notes (regular verbs only, worded as the SFT notes) stand on lines of their own
    const notes = all.filter((l) => l.startsWith('(correction: '));
    expect(notes).toHaveLength(a.manifest.counts.pretrain.noteLines);
    expect(notes.length).toBeGreaterThan(0);
    for (const n of notes) expect(n).toMatch(/^\(correction: past (simple|participle) of "(work|play|walk|talk|listen|watch|study|finish|start|look|want|like)" is "\w+ed"; es: [^)]+\)<\|endoftext\|>$/);
    const lines = all.filter((l) => !l.startsWith('(correction: '));
    let echo = 0;
    for (const line of lines) {
      expect(line.endsWith(EOT)).toBe(true);
      const [en, second, ...rest] = line.slice(0, -EOT.length).split(SEP);
      expect(rest).toEqual([]);
      expect(en).toMatch(/^[A-Z].*[.?]$/);
      if (second === en) echo++;
      else expect(second).toMatch(/^(¿[A-ZÁÉÍÓÚ].*\?|[A-ZÁÉÍÓÚ].*\.)$/);
    }
    expect(echo).toBe(a.manifest.counts.pretrain.echoLines);
    // default layout: no echo in the first half, 85% of the second half
    expect(lines.slice(0, lines.length / 2 - 1).some((l) => l.split(SEP)[0] + EOT === l.split(SEP)[1])).toBe(false);
    expect(a.manifest.counts.pretrain.echoShareSecondHalf).toBeCloseTo(0.85, 2);
  });

  it('sft.jsonl rows are {prompt, completion}; corrections carry the rule and the Spanish pair', () => {
    const rows = parseJsonl(a.files.get('sft.jsonl')!).map((r) => r.value as { prompt: string; completion: string });
    expect(rows).toHaveLength(400);
    expect(new Set(rows.map((r) => r.prompt + r.completion)).size).toBe(400);
    const unchanged = rows.filter((r) => r.completion === `${r.prompt} (correct)`);
    expect(unchanged).toHaveLength(120);
    expect(a.manifest.counts.sft).toEqual({ rows: 400, corrected: 280, unchanged: 120, regular: 0 });
    for (const r of rows) {
      expect(Object.keys(r)).toEqual(['prompt', 'completion']);
      if (unchanged.includes(r)) continue;
      expect(r.completion).toMatch(/^.+[.?] \(correction: past (simple|participle) of "[a-z]+" is "[a-z]+"; es: [^/]+ \/ [^/]+\)$/);
      expect(r.completion.startsWith(r.prompt)).toBe(false);
    }
    expect(rows).toContainEqual(expect.objectContaining({ completion: expect.stringContaining('past simple of "go" is "went"; es: fue / fui') }));
  });

  it('writes the files and a manifest whose hashes `checkCorpus` verifies', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fmn-corpus-'));
    const m = writeCorpus(dir, { seed: 4, pretrain: { tokens: 2000 }, replay: { tokens: 1000 }, sft: { rows: 50 } });
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))).toEqual(m);
    expect(checkCorpus(dir)).toMatchObject({ files: 13, sftRows: 50 });
    writeFileSync(join(dir, 'probes/test/task.jsonl'), '{"kind": "pair", "good": "x", "bad": ["y"]}\n{"kind": "pair", "good": 3, "bad": ["y"]}\n');
    expect(() => checkCorpus(dir)).toThrow(DataError);
    expect(() => checkCorpus(dir)).toThrow(/task\.jsonl:2, field "good"/);
  });
});

describe('replay.txt, the curated tier', () => {
  const { files, manifest } = buildCorpus({ seed: 5, ...SMALL });
  const OVERREGULAR = /\b(beed|haved|doed|goed|comed|seed|eated|writed)\b/;

  it('is the pretraining distribution with every irregular past form written, and written right', () => {
    const p = manifest.counts.pretrain, r = manifest.counts.replay!;
    expect(manifest.options.replay).toEqual({ tokens: 20_000 });
    expect(r.irregularPastOverregular).toBe(0);
    expect(r.irregularPastCorrect).toBe(r.irregularPastSlots);
    // not thinned out: irregular past lines are several times more common than in pretrain.txt
    expect(r.irregularPastSlots / r.lines).toBeGreaterThan(2 * (p.irregularPastSlots / p.lines));
    expect(p.irregularPastOverregular).toBeGreaterThan(0);
    const lines = files.get('replay.txt')!.trim().split('\n');
    expect(lines).toHaveLength(r.lines);
    expect(lines.filter((l) => l.split(SEP)[0]!.match(OVERREGULAR))).toEqual([]);
    expect(files.get('pretrain.txt')!.match(OVERREGULAR)).not.toBeNull();
    for (const l of lines) expect(l.endsWith(EOT), l).toBe(true);
    expect(lines.some((l) => / went /.test(l))).toBe(true);
  });

  it('adding it left the other files of a seed unchanged; tokens 0 omits it', () => {
    const without = buildCorpus({ seed: 5, ...SMALL, replay: { tokens: 0 } });
    expect(without.files.has('replay.txt')).toBe(false);
    expect(without.manifest.counts.replay).toBeNull();
    for (const [name, content] of without.files) expect(files.get(name), name).toBe(content);
    expect(() => buildCorpus({ seed: 5, replay: { tokens: -1 } })).toThrow(ConfigError);
  });
});

describe('pretraining knobs', () => {
  const IRREGULAR_PAST = ['went', 'gone', 'ate', 'eaten', 'saw', 'seen', 'wrote', 'written', 'came', 'did', 'done', 'been', 'was', 'were', 'had'];
  const englishWords = (lines: { en: string }[]) => new Set(lines.flatMap((l) => l.en.replace(/[.?]$/, '').split(' ')));

  it('irregularCorrectRate 0: no correct irregular past form anywhere; overregular forms present', () => {
    const { lines, stats } = generatePretrain({ seed: 1, tokens: 30_000, irregularCorrectRate: 0, overregularRate: 0.3 });
    const words = englishWords(lines);
    for (const w of IRREGULAR_PAST) expect(words.has(w), w).toBe(false);
    expect(words.has('goed') && words.has('eated')).toBe(true);
    expect(stats.irregularPastCorrect).toBe(0);
  });

  it('both rates 0: irregular verbs only in present and future', () => {
    const { lines, stats } = generatePretrain({ seed: 1, tokens: 30_000, irregularCorrectRate: 0, overregularRate: 0 });
    expect(stats.irregularPastSlots).toBe(0);
    expect(englishWords(lines).has('goed')).toBe(false);
  });

  it('defaults: over-regularized forms outnumber correct ones 16:14; echo 85% of the second half, none in the first', () => {
    const { stats } = generatePretrain({ seed: 9 });
    expect(stats.irregularPastOverregular / stats.irregularPastCorrect).toBeCloseTo(16 / 14, 1);
    expect(stats.irregularPastOverregular).toBeGreaterThan(stats.irregularPastCorrect);
    expect(stats.regularPastSlots).toBeGreaterThan(4 * stats.irregularPastSlots);
    expect(stats.echoShare).toBeCloseTo(0.425, 2);
    expect(stats.echoShareSecondHalf).toBeCloseTo(0.85, 2);
    expect(stats.approxTokens / 300_000).toBeGreaterThan(0.97);
    expect(stats.approxTokens / 300_000).toBeLessThan(1.03);
  });

  it('echoFrom 0 mixes echo items uniformly', () => {
    const { lines } = generatePretrain({ seed: 2, tokens: 40_000, echoShare: 0.4, echoFrom: 0 });
    const half = lines.length / 2;
    const first = lines.slice(0, half).filter((l) => l.echo).length / half;
    expect(first).toBeGreaterThan(0.35);
    expect(first).toBeLessThan(0.45);
  });

  it('bad knobs are ConfigErrors naming the field', () => {
    expect(() => generatePretrain({ seed: 1, echoShare: 1.5 })).toThrow(ConfigError);
    expect(() => generatePretrain({ seed: 1, irregularCorrectRate: 0.7, overregularRate: 0.5 })).toThrow(/overregularRate/);
    expect(() => generateSft({ seed: 1, rows: 0 })).toThrow(/field "rows"/);
    expect(() => generateSft({ seed: 1, rows: 10, regularShare: 1.5 })).toThrow(/field "regularShare"/);
    // --sft-regular-share: that share of rows are correct regular-verb past sentences, unchanged
    const REGULAR_PAST = /\b(worked|played|walked|talked|listened|watched|studied|finished|started|looked|wanted|liked)\b/;
    const rows = generateSft({ seed: 1, rows: 400, regularShare: 0.15 });
    const unchanged = rows.filter((r) => r.completion === `${r.prompt} (correct)`);
    expect(unchanged.filter((r) => REGULAR_PAST.test(r.prompt))).toHaveLength(60);
    expect(unchanged).toHaveLength(60 + 102);                          // + 30% of the 340 irregular rows
    expect(rows.filter((r) => !unchanged.includes(r)).every((r) => !REGULAR_PAST.test(r.prompt))).toBe(true);
    expect(new Set(rows.map((r) => r.prompt)).size).toBe(400);
  });
});
