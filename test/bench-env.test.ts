import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { childEnv, chooseOpenblas, KEEP_MEMORY_TUNABLES, OPENBLAS_PATHS, peerIsaEnv, peerMallocEnv, probeCore } from '../bench/peer-env.ts';
import { addonPath } from '../src/backend/native/index.ts';

// The benchmarks' comparison points run with settings chosen for them (bench/peer-env.ts); these
// tests pin what each choice does to the environment a peer process gets.
const saved = { ...process.env };
afterEach(() => {
  for (const k of ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE', 'GLIBC_TUNABLES', 'LD_PRELOAD', 'ATEN_CPU_CAPABILITY']) {
    if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
  }
});

describe('bench peer environment', () => {
  it('childEnv applies changes to this process\'s environment and drops what is set to undefined', () => {
    process.env.OPENBLAS_L2_SIZE = '512';
    const env = childEnv({ OPENBLAS_L2_SIZE: undefined, OPENBLAS_CORETYPE: 'SkylakeX' }, { ATEN_CPU_CAPABILITY: 'avx512' });
    expect('OPENBLAS_L2_SIZE' in env).toBe(false);
    expect(env.OPENBLAS_CORETYPE).toBe('SkylakeX');
    expect(env.ATEN_CPU_CAPABILITY).toBe('avx512');
    expect(env.PATH).toBe(process.env.PATH);
  });

  it('keeps the peer\'s freed memory by default, and leaves an allocator the environment chose alone', () => {
    delete process.env.GLIBC_TUNABLES; delete process.env.LD_PRELOAD;
    expect(peerMallocEnv('keep').env).toEqual({ GLIBC_TUNABLES: KEEP_MEMORY_TUNABLES });
    expect(peerMallocEnv('default').env).toEqual({});
    process.env.LD_PRELOAD = '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4';
    expect(peerMallocEnv('keep').env).toEqual({});
  });

  it('runs PyTorch\'s AVX-512 kernels only on an AVX-512 CPU, unless asked not to', () => {
    delete process.env.ATEN_CPU_CAPABILITY;
    expect(peerIsaEnv('avx512', 'auto').env).toEqual({ ATEN_CPU_CAPABILITY: 'avx512' });
    expect(peerIsaEnv('avx2', 'auto').env).toEqual({});
    expect(peerIsaEnv('avx512', 'default').env).toEqual({});
  });

  const blas = OPENBLAS_PATHS.find((p) => existsSync(p));
  it.skipIf(blas === undefined || !existsSync(addonPath))('auto removes an inherited OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE; env keeps them (needs Debian\'s OpenBLAS)', () => {
    process.env.OPENBLAS_CORETYPE = 'Prescott';   // a kernel set every x86-64 OpenBLAS has
    process.env.OPENBLAS_L2_SIZE = '512';
    const own = probeCore(blas!, { OPENBLAS_CORETYPE: undefined, OPENBLAS_L2_SIZE: undefined });
    expect(own).not.toBeNull();
    expect(probeCore(blas!, {})).toBe('Prescott');
    const auto = chooseOpenblas('avx512', 'auto');
    expect(auto.env).toEqual({ OPENBLAS_CORETYPE: undefined, OPENBLAS_L2_SIZE: undefined });
    expect(auto.core).toBe(own);
    expect(auto.note).toContain('OPENBLAS_CORETYPE=Prescott');
    const env = chooseOpenblas('avx512', 'env');
    expect(env.env).toEqual({});
    expect(env.core).toBe('Prescott');
    expect(env.note).toContain('without AVX-512');   // a weaker peer than the CPU allows, and the report says so
    const forced = chooseOpenblas('avx512', 'Haswell');
    expect(forced.core).toBe('Haswell');
    expect(forced.env.OPENBLAS_CORETYPE).toBe('Haswell');
  });
});
