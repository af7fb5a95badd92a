#!/usr/bin/env node
// Builds the web console (console/src, Preact) into console/dist with esbuild: one minified ES
// module, one stylesheet and index.html, served by the API under / (api/console.ts). Runs on
// `npm install` (postinstall), as `npm run build:console`, and before the console tests.
const { copyFileSync, mkdirSync, readFileSync } = require('node:fs');
const path = require('node:path');
const { gzipSync } = require('node:zlib');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const src = path.join(root, 'console', 'src');
const dist = path.join(root, 'console', 'dist');

/** Builds the bundle; returns the JS size in bytes, raw and gzipped. */
async function buildConsole() {
  mkdirSync(dist, { recursive: true });
  await esbuild.build({
    entryPoints: { app: path.join(src, 'main.tsx') },
    outdir: dist,
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(root, 'console', 'tsconfig.json'),
    define: { 'process.env.NODE_ENV': '"production"' },
    legalComments: 'none',
    logLevel: 'warning',
  });
  copyFileSync(path.join(src, 'index.html'), path.join(dist, 'index.html'));
  const js = readFileSync(path.join(dist, 'app.js'));
  return { bytes: js.length, gzipped: gzipSync(js, { level: 9 }).length };
}

module.exports = { buildConsole, consoleDist: dist };

if (require.main === module) {
  buildConsole().then(
    ({ bytes, gzipped }) =>
      process.stderr.write(
        `[console] built console/dist: app.js ${(bytes / 1024).toFixed(1)} KB, ${(gzipped / 1024).toFixed(1)} KB gzipped\n`,
      ),
    (error) => {
      process.stderr.write(`${error.stack}\n`);
      process.exit(1);
    },
  );
}
