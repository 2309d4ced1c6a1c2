import { readFileSync } from 'node:fs';
import { DOCUMENTED, docPath, withDiagram } from './flow-docs.js';

describe('flow pages (docs/flows)', () => {
  it.each(DOCUMENTED.map((f) => [f.name, f] as const))('%s: the page exists and its state diagram is the one its machine gives (npm run docs:flows)', (_, { name, machine }) => {
    const page = readFileSync(docPath(name), 'utf8');
    expect(withDiagram(page, machine)).toBe(page);
    for (const section of ['## Trigger', '## What it does', '## Rules', '## Re-triggering', '## Durability']) expect(page).toContain(section);
  });
});
