import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import { FLOWS } from '../branch/branch-flows.js';
import { stateDiagram } from './diagram.js';
import { greetingMachine } from './machines/greeting.machine.js';

/** Every flow with a page in docs/flows/, and its machine. */
export const DOCUMENTED: { name: string; machine: AnyStateMachine }[] = [{ name: 'greeting', machine: greetingMachine }, ...FLOWS];

const START = '<!-- diagram: generated from the machine by `npm run docs:flows`; do not edit -->';
const END = '<!-- end of diagram -->';

export const docPath = (name: string) => `docs/flows/${name}.md`;

/** The page with its diagram block replaced by the one the machine gives now. */
export function withDiagram(page: string, machine: AnyStateMachine): string {
  const block = `${START}\n\`\`\`mermaid\n${stateDiagram(machine)}\n\`\`\`\n${END}`;
  const start = page.indexOf(START);
  const end = page.indexOf(END);
  if (start < 0 || end < 0) return `${page.trimEnd()}\n\n## State diagram\n\n${block}\n`;
  return page.slice(0, start) + block + page.slice(end + END.length);
}

/** `npm run docs:flows`: rewrites the diagram of every flow page. */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const { name, machine } of DOCUMENTED) writeFileSync(docPath(name), withDiagram(readFileSync(docPath(name), 'utf8'), machine));
  console.log(`diagrams written: ${DOCUMENTED.map((f) => docPath(f.name)).join(', ')}`);
}
