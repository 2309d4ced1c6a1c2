/**
 * `npm run build`, last step: the compiled hub (dist/src/main.js and everything it imports, node_modules included)
 * as one ES module, dist/hub.mjs — what `npm start`, the demo, the tests and the bench run. Node spent most of the
 * hub's start-up finding, reading and compiling some 1,500 module files one by one (NestJS, rxjs, TypeORM); one file
 * is 35–45 % faster to start (BENCHMARKS.md, issue 12 part 8). It bundles tsc's output, not the TypeScript, because
 * esbuild does not emit the decorator metadata NestJS injects by.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const OUT = 'dist/hub.mjs';

await build({
  entryPoints: ['dist/src/main.js'],
  outfile: OUT,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // The bundle renames classes (TypeScript's decorated ones, colliding names: Store → Store2); NestJS, TypeORM and the
  // hub name things by class names. See KEEP_NAME below for what it costs.
  keepNames: true,
  logLevel: 'warning',
  external: [
    // Native bindings, loaded from node_modules as they are.
    'sqlite3',
    // Loaded only with HUB_DB_URL; pg's optional native binding is not installed.
    'pg',
    // Optional packages NestJS imports only when a feature the hub does not use is asked for.
    '@nestjs/microservices',
    'class-transformer',
    'class-validator',
  ],
  // The CommonJS modules inside (most of node_modules) need `require`, `__filename` and `__dirname`.
  banner: {
    js: [
      "import { createRequire as __createRequire } from 'node:module';",
      "import { fileURLToPath as __fileURLToPath } from 'node:url';",
      'const require = __createRequire(import.meta.url);',
      'const __filename = __fileURLToPath(import.meta.url);',
      "const __dirname = __fileURLToPath(new URL('.', import.meta.url));",
    ].join('\n'),
  },
});

/**
 * keepNames' helper sets `name` on every function as it is created, closures on the hot path included: that
 * `defineProperty` made the bundled hub spend ~8 % more CPU per message under ingest than the unbundled one. Only
 * classes' names are read by anything (by convention the ones starting with a capital), so only those are set.
 */
const KEEP_NAME = 'var __name = (target, value) => __defProp(target, "name", { value, configurable: true });';
const bundled = readFileSync(OUT, 'utf8');
if (!bundled.includes(KEEP_NAME)) throw new Error(`esbuild's __name helper changed; update KEEP_NAME in ${import.meta.filename}`);
writeFileSync(OUT, bundled.replace(KEEP_NAME, 'var __name = (target, value) => value[0] >= "A" && value[0] <= "Z" && target.name !== value ? __defProp(target, "name", { value, configurable: true }) : target;'));
