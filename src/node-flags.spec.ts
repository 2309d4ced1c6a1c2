import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './package-root.js';
import { HUB_ENTRY, HUB_NODE_FLAGS } from './node-flags.js';

describe('how node runs the hub', () => {
  it('is how `npm start` runs it', () => {
    const pkg = JSON.parse(readFileSync(join(packageRoot(import.meta.dirname), 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(`node ${HUB_NODE_FLAGS.join(' ')} ${HUB_ENTRY}`);
  });
});
