import { describe, expect, it } from 'vitest';
import { progressTo, SILENT_PROGRESS } from './progress.ts';

const sink = (isTTY: boolean) => { const out: string[] = []; return { out, stream: { isTTY, write: (s: string) => { out.push(s); } } }; };

describe('progress through the run context', () => {
  it('a terminal gets one redrawn bar; a pipe gets plain lines (first, periodic, last); silent writes nothing', () => {
    const tty = sink(true);
    const bar = progressTo(tty.stream)('train', 3);
    for (let i = 1; i <= 3; i++) bar.update(i, { loss: 1.5 });
    expect(tty.out.filter((l) => l !== '\n').every((l) => l.startsWith('\r') && !l.includes('\n'))).toBe(true);
    expect(tty.out.at(-1)).toBe('\n');                                 // the finished bar ends its line
    expect(tty.out.join('')).toMatch(/\rtrain \[#{24}\] 3\/3 {2}loss 1\.5000 {2}eta/);

    const pipe = sink(false);
    const lines = progressTo(pipe.stream, undefined, 3600)('train', 100);
    for (let i = 1; i <= 100; i++) lines.update(i, { loss: 2 });
    expect(pipe.out).toHaveLength(2);                                  // the first step and the last
    expect(pipe.out[0]).toMatch(/^train 1\/100 {2}loss 2 {2}elapsed/);
    expect(pipe.out.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);

    const quiet = sink(false);
    const s = progressTo(quiet.stream, 'silent')('train', 5);
    s.update(5, {});
    SILENT_PROGRESS('x', 1).update(1, {});
    expect(quiet.out).toEqual([]);
  });
});
