/**
 * Makes test/fixtures/tokenizers/ (run: `npx tsx scripts/tokenizer-fixtures.ts`; deterministic,
 * no downloads):
 *
 * - mixed.txt: 2,000 lines of mixed text (English and Spanish from the verb corpus, Spanish
 *   accents, German ß, CJK, emoji, digits, tabs, runs of spaces, leading/trailing spaces, the
 *   special-token strings, literal "▁" and "<0x41>", and characters the vocabularies lack);
 * - llama2/: a Llama-2-style tokenizer.json (normalizer Sequence[Prepend "▁", Replace " " → "▁"],
 *   no pre-tokenizer, decoder Sequence[Replace, ByteFallback, Fuse, Strip], BPE with byte_fallback,
 *   <unk> <s> </s>, the 256 <0xNN> tokens, TemplateProcessing "<s> $A", merges as "a b") and its
 *   tokenizer_config.json;
 * - metaspace-legacy/: the older shape (pre-tokenizer Metaspace with add_prefix_space and
 *   str_rep, Metaspace decoder, TemplateProcessing "<s> $A </s>", merges as [a, b]).
 *
 * Vocabularies are made the way SentencePiece BPE models are, then converted the way
 * transformers' LlamaConverter does: ids 0–2 are <unk> <s> </s>, 3–258 the bytes, then the learned
 * pieces in merge order, then single characters by frequency (rare ones are left out, so byte
 * fallback has work). Merges are derived from the vocabulary as SentencePieceExtractor derives
 * them: every split of a piece into two vocabulary pieces, ordered by the piece's id, then by the
 * ids of its parts (so a merge may outrank the merges that build its parts, as in Llama-2's file).
 * llama2's pieces may be whitespace runs ("▁▁"; SentencePiece's allow_whitespace_only_pieces);
 * metaspace-legacy's never hold "▁" past their first character.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCorpus } from '../src/corpus/corpus.ts';
import { Rng } from '../src/util/rng.ts';

const OUT = join(import.meta.dirname, '..', 'test', 'fixtures', 'tokenizers');
const SP = '▁';

// ─── mixed text ────────────────────────────────────────────────────────────────────────────────

const SPANISH = [
  '¿Dónde está la estación?', 'Mañana iré a la playa con mi abuela.', 'El niño comió piña y melón.', '¡Qué día tan bonito!',
  'La canción del año pasado', 'acción, corazón, pingüino, ñandú', 'Él habló con el señor López.', 'Había una vez un dragón.',
  'Ayer estudié español durante tres horas.', 'Los jóvenes bailaron hasta el amanecer.', 'Volveré pronto, te lo prometo.', 'averigüé',
];
const GERMAN = ['Die Straße ist lang.', 'Fußgänger überqueren die Brücke.', 'Größe: 42', 'Grüße aus Köln!', 'Äpfel, Öl und Übermut', 'weiß, heiß, groß', 'Maßstab 1:100'];
const CJK = ['東京は日本の首都です。', '我喜欢学习中文。', '한국어 문장입니다', 'こんにちは世界', '北京欢迎你', '漢字とカタカナ', '天气很好，我们去公园吧！', '日本語の「テスト」'];
const EMOJI = ['🙂', '👍🏽', '👨‍👩‍👧', '🇪🇸', '❤️', '🎉🎉', '🚀 launch', 'ok 👌', '😀😃😄'];
const RARE = [
  'ქართული ენა', 'Հայերեն', 'हिन्दी भाषा', 'ภาษาไทย', 'ሰላም', '∮ E⋅da = Q', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '╔═╗║╚═╝', 'ᚠᛇᚻ', 'ꙮ', '𓀀𓁿', '☃ snowman', 'Ωμέγα',
  'ℵ₀ < 2^ℵ₀', '‽', 'e\u0301 vs é', 'a\u00a0b', 'x\u3000y', 'zero\u200bwidth',
];
const SPECIALS = ['<s>', '</s>', '<unk>', '<s> hello', 'end</s>', '<s><s>', '</s><s>', '<s >', '</s', '<<s>>', '<|endoftext|>', '<|sep|>', 'a<unk>b', '< s>'];
const ODD = [SP, `${SP}${SP}`, `a${SP}b`, '<0x41>', '<0xE2><0x96>', '<0x0A>', 'tab\there', '\t\tdouble tab', 'trailing   ', '   leading', ' ', 'a  b   c    d', '...', '!!!', '"quoted"', "it's", '(paren)', '[x]', '#tag', 'x=y+z', 'C:\\path\\to', 'http://example.com/a?b=c'];

function digits(rng: Rng): string {
  switch (rng.int(5)) {
    case 0: return String(rng.int(100000));
    case 1: return `${2000 + rng.int(30)}-${String(1 + rng.int(12)).padStart(2, '0')}-${String(1 + rng.int(28)).padStart(2, '0')}`;
    case 2: return (rng.next() * 1000).toFixed(rng.int(5));
    case 3: return `${rng.int(1000)},${String(rng.int(1000)).padStart(3, '0')},${String(rng.int(1000)).padStart(3, '0')}`;
    default: return `${rng.int(24)}:${String(rng.int(60)).padStart(2, '0')}`;
  }
}

function mixedLines(n: number, corpus: readonly string[], rng: Rng): string[] {
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
  const sep = () => pick([' ', ' ', ' ', ' ', '  ', '\t', '', ' \t ', '   ']);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const parts: string[] = [];
    const k = 1 + rng.int(3);
    for (let j = 0; j < k; j++) {
      const r = rng.next();
      if (r < 0.3) parts.push(pick(corpus));
      else if (r < 0.42) parts.push(pick(SPANISH));
      else if (r < 0.5) parts.push(pick(GERMAN));
      else if (r < 0.58) parts.push(pick(CJK));
      else if (r < 0.64) parts.push(pick(EMOJI));
      else if (r < 0.71) parts.push(digits(rng));
      else if (r < 0.79) parts.push(pick(RARE));
      else if (r < 0.88) parts.push(pick(SPECIALS));
      else parts.push(pick(ODD));
    }
    let line = parts.map((p, j) => (j === 0 ? p : sep() + p)).join('');
    if (rng.bernoulli(0.08)) line = pick([' ', '  ', '\t', '    ']) + line;
    if (rng.bernoulli(0.08)) line += pick([' ', '  ', '\t', ' \t']);
    lines.push(line.replaceAll('\n', ' '));
  }
  return lines;
}

// ─── SentencePiece-like BPE ────────────────────────────────────────────────────────────────────

const RESERVED = ['<unk>', '<s>', '</s>'];
const byteToken = (b: number): string => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;

/** Words of one line as SentencePiece sees them: "▁"-prefixed, split before each "▁"; with `runs`, a run of bare "▁" is one word. */
function words(line: string, runs: boolean): string[] {
  const s = SP + line.replaceAll(' ', SP);
  const out: string[] = [];
  let start = 0;
  for (let at = s.indexOf(SP, 1); at >= 0; at = s.indexOf(SP, at + 1)) { out.push(s.slice(start, at)); start = at; }
  out.push(s.slice(start));
  if (!runs) return out;
  const merged: string[] = [];
  for (const w of out) {
    if (w === SP && merged.length > 0 && /^▁+$/.test(merged.at(-1)!)) merged[merged.length - 1] += SP;
    else merged.push(w);
  }
  return merged;
}

interface Trained { vocab: Map<string, number>; merges: [string, string][] }

function train(lines: readonly string[], opts: { pieces: number; chars: number; minCharCount: number; runs: boolean; exclude: ReadonlySet<string> }): Trained {
  const wordCount = new Map<string, number>();
  for (const line of lines) for (const w of words(line, opts.runs)) wordCount.set(w, (wordCount.get(w) ?? 0) + 1);
  const charCount = new Map<string, number>();
  for (const [w, c] of wordCount) for (const ch of w) charCount.set(ch, (charCount.get(ch) ?? 0) + c);
  const chars = [...charCount].filter(([ch, c]) => c >= opts.minCharCount && !opts.exclude.has(ch))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, opts.chars).map(([ch]) => ch);
  if (!chars.includes(SP)) chars.unshift(SP);
  const reserved = new Set([...RESERVED, ...Array.from({ length: 256 }, (_, b) => byteToken(b))]);

  // words as symbol lists; a character outside the alphabet blocks merges through it
  const ws: { syms: string[]; count: number }[] = [...wordCount].map(([w, count]) => ({ syms: [...w], count }));
  const pieces: string[] = [];
  const have = new Set<string>(chars);
  while (pieces.length < opts.pieces) {
    const pairs = new Map<string, number>();
    for (const { syms, count } of ws) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const a = syms[i]!, b = syms[i + 1]!;
        if (!have.has(a) || !have.has(b)) continue;
        if (!opts.runs && b.startsWith(SP)) continue;
        const k = `${a}\u0000${b}`;
        pairs.set(k, (pairs.get(k) ?? 0) + count);
      }
    }
    let best: string | undefined, bestCount = 1;
    for (const [k, c] of pairs) {
      const [a, b] = k.split('\u0000') as [string, string];
      const piece = a + b;
      if (reserved.has(piece)) continue;
      if (c > bestCount || (c === bestCount && best !== undefined && k < best)) { best = k; bestCount = c; }
    }
    if (best === undefined) break;
    const [a, b] = best.split('\u0000') as [string, string];
    const piece = a + b;
    // a piece made again from other parts (▁th + e after ▁t + he) is the same symbol, as in SentencePiece's trainer
    if (!have.has(piece)) { pieces.push(piece); have.add(piece); }
    for (const w of ws) {
      const next: string[] = [];
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === a && w.syms[i + 1] === b) { next.push(piece); i++; }
        else next.push(w.syms[i]!);
      }
      w.syms = next;
    }
  }

  const vocab = new Map<string, number>();
  for (const t of [...RESERVED, ...Array.from({ length: 256 }, (_, b) => byteToken(b)), ...pieces, ...chars]) if (!vocab.has(t)) vocab.set(t, vocab.size);
  // SentencePieceExtractor: each piece's splits into two vocabulary pieces, by the piece's id, then its parts' ids
  const merges: [string, string][] = [];
  for (const piece of pieces) {
    const cps = [...piece];
    const local: [string, string][] = [];
    for (let i = 1; i < cps.length; i++) {
      const l = cps.slice(0, i).join(''), r = cps.slice(i).join('');
      // not through <unk>, <s>, </s> or a byte token (SentencePiece never builds a piece from them)
      if (vocab.has(l) && vocab.has(r) && !reserved.has(l) && !reserved.has(r)) local.push([l, r]);
    }
    local.sort((x, y) => vocab.get(x[0])! - vocab.get(y[0])! || vocab.get(x[1])! - vocab.get(y[1])!);
    merges.push(...local);
  }
  return { vocab, merges };
}

const ADDED = RESERVED.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));

const template = (eos: boolean) => ({
  type: 'TemplateProcessing',
  single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, ...(eos ? [{ SpecialToken: { id: '</s>', type_id: 0 } }] : [])],
  pair: [
    { SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, ...(eos ? [{ SpecialToken: { id: '</s>', type_id: 0 } }] : []),
    { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }, ...(eos ? [{ SpecialToken: { id: '</s>', type_id: 1 } }] : []),
  ],
  special_tokens: {
    '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] },
    ...(eos ? { '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } } : {}),
  },
});

function main(): void {
  const rng = new Rng(20240515);
  const { files } = buildCorpus({ seed: 3, pretrain: { tokens: 40_000 }, sft: { rows: 10 } });
  const corpus = files.get('pretrain.txt')!.trimEnd().split('\n').flatMap((l) => l.split(/<\|sep\|>|<\|endoftext\|>/)).filter((s) => s.length > 0);
  const mixed = mixedLines(2000, corpus, rng);
  mkdirSync(join(OUT, 'llama2'), { recursive: true });
  mkdirSync(join(OUT, 'metaspace-legacy'), { recursive: true });
  writeFileSync(join(OUT, 'mixed.txt'), mixed.join('\n') + '\n');

  // Tiny Shakespeare (when ../shared/data/external has it) gives the vocabularies more English than the verb corpus
  const shakespeareFile = join(import.meta.dirname, '..', '..', 'shared', 'data', 'external', 'tinyshakespeare', 'input.txt');
  const shakespeare = existsSync(shakespeareFile) ? readFileSync(shakespeareFile, 'utf8').split('\n').slice(0, 6000).filter((l) => l.trim() !== '') : [];
  console.log(shakespeare.length > 0 ? `training text: verb corpus, mixed.txt, ${shakespeare.length} lines of ${shakespeareFile}` : `training text: verb corpus and mixed.txt (${shakespeareFile} is absent: the vocabularies will differ from the committed ones)`);
  const trainText = [...corpus, ...mixed, ...shakespeare];
  // the rare scripts' characters stay out of the alphabets (byte fallback / unk); ASCII and the other pools' characters stay in
  const common = new Set([...SPANISH, ...GERMAN, ...CJK, ...EMOJI].join(''));
  const rare = new Set([...RARE.join('')].filter((ch) => ch.codePointAt(0)! > 0x7f && !common.has(ch)));
  const a = train(trainText, { pieces: 1300, chars: 160, minCharCount: 6, runs: true, exclude: rare });
  const llama2 = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ADDED,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: SP }, { type: 'Replace', pattern: { String: ' ' }, content: SP }] },
    pre_tokenizer: null,
    post_processor: template(false),
    decoder: {
      type: 'Sequence',
      decoders: [{ type: 'Replace', pattern: { String: SP }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }],
    },
    model: {
      type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true,
      vocab: Object.fromEntries(a.vocab), merges: a.merges.map(([l, r]) => `${l} ${r}`),
    },
  };
  writeFileSync(join(OUT, 'llama2', 'tokenizer.json'), JSON.stringify(llama2) + '\n');
  const tokenConfig = (content: string) => ({ __type: 'AddedToken', content, lstrip: false, normalized: false, rstrip: false, single_word: false });
  writeFileSync(join(OUT, 'llama2', 'tokenizer_config.json'), JSON.stringify({
    add_bos_token: true,
    add_eos_token: false,
    bos_token: tokenConfig('<s>'),
    clean_up_tokenization_spaces: false,
    eos_token: '</s>',
    legacy: true,
    model_max_length: 4096,
    pad_token: null,
    sp_model_kwargs: {},
    tokenizer_class: 'LlamaTokenizer',
    unk_token: tokenConfig('<unk>'),
  }, null, 2) + '\n');

  const b = train(trainText, { pieces: 500, chars: 120, minCharCount: 10, runs: false, exclude: rare });
  const legacy = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ADDED,
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: SP, add_prefix_space: true, str_rep: SP },
    post_processor: template(true),
    decoder: { type: 'Metaspace', replacement: SP, add_prefix_space: true, str_rep: SP },
    model: {
      type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: true,
      vocab: Object.fromEntries(b.vocab), merges: b.merges,
    },
  };
  writeFileSync(join(OUT, 'metaspace-legacy', 'tokenizer.json'), JSON.stringify(legacy) + '\n');
  console.log(`mixed.txt: ${mixed.length} lines; llama2: ${a.vocab.size} tokens, ${a.merges.length} merges; metaspace-legacy: ${b.vocab.size} tokens, ${b.merges.length} merges`);
}

main();
