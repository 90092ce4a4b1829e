import { describe, expect, it } from 'vitest';
import { PeerServer, runPaired, type Stepper } from '../bench/paired.ts';

// bench:peer's paired mode: the turn order, the untimed first step of each turn, the pair ratios,
// and the line protocol with a live peer process (a stand-in written in JavaScript here).
describe('bench paired mode', () => {
  it('alternates the first side, drops each turn\'s first step, and pairs the same batches', async () => {
    const calls: string[] = [];
    // ours: 10 ms a timed step (the untimed one 1 s: it must not count); the peer 15 ms, then 30 ms from pair 4 on
    const ours: Stepper = async (first, n) => { calls.push(`ours ${first} ${n}`); return [1, ...Array(n - 1).fill(0.01)]; };
    let peerCalls = 0;
    const peer: Stepper = async (first, n) => { calls.push(`peer ${first} ${n}`); const t = peerCalls++ >= 3 ? 0.03 : 0.015; return [2, ...Array(n - 1).fill(t)]; };
    const r = await runPaired(ours, peer, 6, 2, 5, (_f, n) => 100 * n);
    expect(calls.slice(0, 6)).toEqual(['ours 5 3', 'peer 5 3', 'peer 8 3', 'ours 8 3', 'ours 11 3', 'peer 11 3']);
    expect(r.ratios.map((x) => +x.toFixed(6))).toEqual([1.5, 1.5, 1.5, 3, 3, 3]);
    expect(r.ratio).toBeCloseTo(2.25, 12);   // the median of an even count: the middle pair's mean
    expect([r.ratio_lo, r.ratio_hi]).toEqual([r.ratios[0], r.ratios[5]]);   // 6 pairs: [min, max] at 96.9%
    expect(r.ratio_coverage).toBeCloseTo(1 - 2 / 64, 12);
    expect(r.ours_tok_s.map((x) => Math.round(x))).toEqual(Array(6).fill(10000));
    expect(r.peer_tok_s.map((x) => Math.round(x))).toEqual([6667, 6667, 6667, 3333, 3333, 3333]);
  });

  it('rejects a side that takes another number of steps than asked', async () => {
    const ok: Stepper = async (_f, n) => Array(n).fill(0.01);
    const short: Stepper = async () => [0.01];
    await expect(runPaired(ok, short, 2, 2, 0, () => 1)).rejects.toThrow(/peer took 1 steps, asked 3/);
    await expect(runPaired(ok, ok, 0, 2, 0, () => 1)).rejects.toThrow(/positive integers/);
  });

  const stub = (body: string) => [`-e`, `const rl = require('node:readline').createInterface({ input: process.stdin }); ${body}`];

  it('talks to a live peer: a ready line, then one answer per command', async () => {
    const s = new PeerServer(process.execPath, stub(`
      console.log(JSON.stringify({ ready: true, trainable: 7 }));
      rl.on('line', (l) => { const [cmd, n] = l.split(' '); if (cmd === 'quit') process.exit(0); console.log(JSON.stringify({ times: Array(Number(n)).fill(0.5) })); });`), {});
    try {
      expect((await s.ready()).trainable).toBe(7);
      expect(await s.run('run 3')).toEqual([0.5, 0.5, 0.5]);
      expect(await s.run('run 1')).toEqual([0.5]);
    } finally { s.close(); }
  });

  it('names what a failing peer said last instead of hanging', async () => {
    const dead = new PeerServer(process.execPath, stub(`console.error('Traceback …'); console.error('ModuleNotFoundError: No module named torch'); process.exit(1);`), {});
    await expect(dead.ready()).rejects.toThrow(/peer ended: ModuleNotFoundError: No module named torch/);
    dead.close();
    const odd = new PeerServer(process.execPath, stub(`console.log(JSON.stringify({ ready: true })); rl.on('line', () => console.log('not json'));`), {});
    try {
      await odd.ready();
      await expect(odd.run('run 1')).rejects.toThrow(/unreadable peer line: not json/);
    } finally { odd.close(); }
    const missing = new PeerServer('/nonexistent/python3', [], {});
    await expect(missing.ready()).rejects.toThrow(/peer ended: .*ENOENT/);
    missing.close();
  });
});
