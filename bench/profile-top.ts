/**
 * `node dist/bench/profile-top.js FILE.cpuprofile [N]`: the top N frames of a V8 CPU profile (from
 * `npm run bench -- --cpu-prof DIR`) by self time, and by package/folder, to name what is slow.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
const [file, n = '25'] = process.argv.slice(2);
const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const self = new Map<number, number>();
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const byFrame = new Map<string, number>();
const byWhere = new Map<string, number>();
for (const node of prof.nodes) {
  const t = self.get(node.id) ?? 0;
  const { functionName, url, lineNumber } = node.callFrame;
  const short = url.replace(/^file:\/\//, '').replace(/.*node_modules\//, 'nm:').replace(/.*\/dist\//, 'dist/');
  const key = `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`;
  byFrame.set(key, (byFrame.get(key) ?? 0) + t);
  const where = !url ? functionName || '(native)' : url.startsWith('node:') ? 'node:' + url.slice(5).split('/')[0] : short.startsWith('nm:') ? short.split('/').slice(0, short.startsWith('nm:@') ? 2 : 1).join('/') : short.split('/').slice(0, 3).join('/');
  byWhere.set(where, (byWhere.get(where) ?? 0) + t);
}
const show = (m: Map<string, number>, k: number) =>
  [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k).map(([key, t]) => `${((100 * t) / total).toFixed(1).padStart(5)} %  ${(t / 1000).toFixed(0).padStart(6)} ms  ${key}`).join('\n');
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled\n\nself time by frame:\n${show(byFrame, Number(n))}\n\nself time by package / folder:\n${show(byWhere, 20)}`);
