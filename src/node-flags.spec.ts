import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './package-root.js';
import { HUB_NODE_FLAGS } from './node-flags.js';

describe('the flags node runs the hub with', () => {
  it('are the ones `npm start` passes', () => {
    const pkg = JSON.parse(readFileSync(join(packageRoot(import.meta.dirname), 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(`node ${HUB_NODE_FLAGS.join(' ')} dist/src/main.js`);
  });
});
