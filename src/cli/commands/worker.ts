import { availableParallelism } from 'node:os';
import type { Schema } from '../../config/schema.ts';
import { outputFields } from '../../config/common.ts';
import { runWorker } from '../../sweep/queue.ts';
import type { Command } from '../command.ts';
import { contextOf, log, parseCommand, printJson } from '../run.ts';

export const WORKER_SCHEMA: Schema = {
  command: 'worker',
  usage: ['worker --queue redis://HOST:PORT --storage DIR [--concurrency N]'],
  description: `Takes sweep cells from the BullMQ queue on Redis and runs them (each an fmn finetune child
process) against the shared storage DIR, until stopped with SIGINT or SIGTERM (the running cells
save their state and go back to the queue). Start as many as you like, on any machine that
mounts the storage; a worker that dies is noticed by BullMQ's stalled-job check after
--lock-seconds, and its cell continues elsewhere from its last saved state.`,
  fields: [
    { key: 'queue', type: 'string', required: true, metavar: 'URL', help: 'redis://HOST:PORT[/DB]' },
    { key: 'storage', type: 'string', required: true, metavar: 'DIR', help: 'this machine\'s mount of the sweeps\' shared directory' },
    { key: 'concurrency', type: 'int', min: 1, max: 64, default: 1, help: 'cells at once' },
    { key: 'threads', type: 'int', min: 1, max: 256, default: (v) => Math.max(1, Math.floor(availableParallelism() / (v.concurrency as number))), defaultText: 'cores / concurrency', help: 'kernel threads of each cell' },
    { key: 'lock_seconds', type: 'int', min: 1, default: 30, help: 'BullMQ lock duration: how long a silent worker keeps its cell' },
    { key: 'stalled_seconds', type: 'int', min: 1, default: 30, help: 'how often this worker looks for cells whose worker went silent' },
    ...outputFields(),
  ],
};

export const command: Command = {
  async run(argv) {
    const r = parseCommand(WORKER_SCHEMA, argv);
    if (r === null) return 0;
    const v = r.values;
    const ctx = contextOf(v);
    let signal: () => void = () => {};
    const stopped = new Promise<void>((res) => { signal = res; });
    const onSignal = (sig: NodeJS.Signals) => { log(`\n${sig}: the running cells save their state and go back to the queue`); signal(); };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const res = await runWorker({
      url: v.queue as string, storage: v.storage as string, concurrency: v.concurrency as number, threads: v.threads as number,
      lockSeconds: v.lock_seconds as number, stalledSeconds: v.stalled_seconds as number,
    }, ctx, stopped);
    log(`worker: stopped after ${res.done} cell${res.done === 1 ? '' : 's'}`);
    printJson(v, res);
    return 0;
  },
};
