// Bundles the widget into dist/widget.js: one minified IIFE, ES2019, and prints its gzipped size.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outfile = join(here, 'dist', 'widget.js');
const LIMIT_GZ = 30 * 1024;

await build({
  entryPoints: [join(here, 'src', 'index.ts')],
  outfile,
  bundle: true,
  format: 'iife',
  minify: true,
  target: 'es2019',
  platform: 'browser',
  legalComments: 'none',
  sourcemap: false,
  logLevel: 'warning',
});

const code = readFileSync(outfile);
const gz = gzipSync(code, { level: 9 }).length;
console.log(`widget: dist/widget.js ${(code.length / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzipped (limit ${LIMIT_GZ / 1024} KB)`);
if (gz > LIMIT_GZ) {
  console.error('widget: bundle is over the gzipped size limit');
  process.exit(1);
}
