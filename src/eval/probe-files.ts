import { existsSync } from 'node:fs';
import type { Field } from '../config/schema.ts';
import { loadProbes, type ProbeItem, type ProbeRole, type ProbeSplit } from '../data/probes.ts';
import { ConfigError, DataError } from '../errors.ts';

/**
 * Probe files by role and split, as every command takes them: `--task F`, `--control F`,
 * `--adoption F` set the role of a whole file, `--probes F` takes each item's own `role`;
 * the `--dev-*` twins hold the dev split (what selection reads), the others the test split
 * (what is reported). Each flag repeats and takes several files.
 */
export interface ProbeFiles {
  probes: string[]; task: string[]; control: string[]; adoption: string[];
  devProbes: string[]; devTask: string[]; devControl: string[]; devAdoption: string[];
}

export const NO_PROBES: ProbeFiles = { probes: [], task: [], control: [], adoption: [], devProbes: [], devTask: [], devControl: [], devAdoption: [] };

const ROLE_OF: Record<keyof ProbeFiles, ProbeRole | undefined> = {
  probes: undefined, task: 'task', control: 'control', adoption: 'adoption',
  devProbes: undefined, devTask: 'task', devControl: 'control', devAdoption: 'adoption',
};
const isDev = (k: keyof ProbeFiles) => k.startsWith('dev');

/** The eight probe fields of a schema, typed at `probes.<name>`. */
export function probeFields(section = 'probes'): Field[] {
  const f = (key: string, path: keyof ProbeFiles, help: string): Field => ({
    key, path: `probes.${path}`, type: 'list', metavar: 'FILE…', default: [], defaultText: 'none', help, section,
  });
  return [
    f('task', 'task', 'task probe files (test split): accuracy should rise'),
    f('control', 'control', 'control probe files (test split): perplexity should hold'),
    f('adoption', 'adoption', 'adoption probe files (test split): over-application'),
    f('probes', 'probes', 'probe files whose items carry their own "role" (test split)'),
    f('dev_task', 'devTask', 'dev-split task probes (read by the gate and any selection)'),
    f('dev_control', 'devControl', 'dev-split control probes'),
    f('dev_adoption', 'devAdoption', 'dev-split adoption probes'),
    f('dev_probes', 'devProbes', 'dev-split probe files with per-item roles'),
  ];
}

/** Every file of one split, checked to exist (without opening it). */
export function probeFilesOf(spec: ProbeFiles, split: ProbeSplit): { key: keyof ProbeFiles; file: string }[] {
  const out: { key: keyof ProbeFiles; file: string }[] = [];
  for (const key of Object.keys(ROLE_OF) as (keyof ProbeFiles)[]) {
    if (isDev(key) !== (split === 'dev')) continue;
    for (const file of spec[key] ?? []) {
      if (!existsSync(file)) throw new DataError('no such probe file', { file, field: `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` });
      out.push({ key, file });
    }
  }
  return out;
}

/** Loads the items of one split, role and split set from the flag each file came with. */
export function loadProbeSplit(spec: ProbeFiles, split: ProbeSplit): ProbeItem[] {
  return probeFilesOf(spec, split).flatMap(({ key, file }) => loadProbes(file, { role: ROLE_OF[key], split }));
}

/** Items of a role; an empty role that is needed is a ConfigError naming the flags that give it. */
export function needRole(items: readonly ProbeItem[], role: ProbeRole, split: ProbeSplit, why: string): ProbeItem[] {
  const got = items.filter((i) => i.role === role);
  if (got.length === 0) {
    const flags = split === 'dev' ? `--dev-${role} FILE or --dev-probes FILE with "role": "${role}" items` : `--${role} FILE or --probes FILE with "role": "${role}" items`;
    throw new ConfigError(`${why} needs a ${split}-split ${role} probe: give ${flags}`, { field: split === 'dev' ? `--dev-${role}` : `--${role}` });
  }
  return got;
}

export const hasAny = (spec: ProbeFiles, split: ProbeSplit): boolean =>
  (Object.keys(ROLE_OF) as (keyof ProbeFiles)[]).some((k) => isDev(k) === (split === 'dev') && (spec[k]?.length ?? 0) > 0);
