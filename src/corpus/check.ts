/**
 * Validates a corpus directory written by `fmn corpus`: every file listed in manifest.json
 * exists with the recorded size and sha256, sft.jsonl rows are valid SFT rows and probe files
 * are valid probe files. Problems are DataErrors naming file, line and field.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.ts';
import type { Manifest } from './corpus.ts';
import { loadProbes } from '../data/probes.ts';
import { loadSft } from '../data/sft-load.ts';

export interface CheckResult { files: number; sftRows: number; probeItems: Record<string, number> }

export function checkCorpus(dir: string): CheckResult {
  const manifestFile = join(dir, 'manifest.json');
  let manifest: Manifest;
  try { manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest; } catch (e) {
    throw new DataError(`cannot read manifest: ${(e as Error).message}`, { file: manifestFile }, { cause: e });
  }
  if (typeof manifest.files !== 'object' || manifest.files === null) throw new DataError('missing files', { file: manifestFile, field: 'files' });
  const result: CheckResult = { files: 0, sftRows: 0, probeItems: {} };
  for (const [name, meta] of Object.entries(manifest.files)) {
    const file = join(dir, name);
    if (name.endsWith('.jsonl')) {
      if (name.startsWith('probes/')) result.probeItems[name] = loadProbes(file).length;
      else result.sftRows += loadSft(file).length;
    }
    let buf: Buffer;
    try { buf = readFileSync(file); } catch (e) {
      throw new DataError(`cannot read: ${(e as Error).message}`, { file }, { cause: e });
    }
    const sha = createHash('sha256').update(buf).digest('hex');
    if (sha !== meta.sha256 || buf.length !== meta.bytes) {
      throw new DataError(`content does not match the manifest (sha256 ${sha.slice(0, 12)}…, ${buf.length} bytes)`, { file: manifestFile, field: `files.${name}` });
    }
    result.files++;
  }
  return result;
}
