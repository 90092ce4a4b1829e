// Builds the native addon with node-gyp against the local Node headers (npm's `nodedir`).
// Never fails the install: if the build fails, forgetmenot runs on the js backend and says so.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.env.FMN_SKIP_NATIVE === '1') {
  console.log('forgetmenot: FMN_SKIP_NATIVE=1, native addon not built (js backend will be used)');
  process.exit(0);
}

// node-gyp: npm ships one; prefer the one npm runs scripts with.
function findNodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  const require = createRequire(import.meta.url);
  for (const base of [process.execPath, join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'index.js')]) {
    try {
      const npmDir = dirname(require.resolve('npm/package.json', { paths: [dirname(base)] }));
      const p = join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
      if (existsSync(p)) return p;
    } catch { /* keep looking */ }
  }
  for (const p of ['/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js']) if (existsSync(p)) return p;
  return null;
}

const gyp = findNodeGyp();
if (!gyp) {
  console.log('forgetmenot: node-gyp not found; native addon not built (js backend will be used)');
  process.exit(0);
}
const args = [gyp, 'rebuild', '--release', '-j', '2'];
// Build against local headers only, never download them.
const nodedir = process.env.npm_config_nodedir || (existsSync('/usr/include/node/node.h') ? '/usr' : undefined);
if (nodedir) args.push(`--nodedir=${nodedir}`);
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.log('forgetmenot: native addon build failed; the js backend will be used (slower)');
}
process.exit(0);
