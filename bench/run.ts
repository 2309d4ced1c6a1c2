/**
 * `npm run bench` (a benchmark, never a test: it always exits 0): the hub against a bare aedes broker started
 * the same way, in one run, each as its own child process. Parts: ingest, kinds (ingest by kind), reaction, scale,
 * fanout, startup.
 *
 *   npm run bench                                  every part
 *   npm run bench -- --only ingest,reaction        some parts
 *   npm run bench -- --runs 5                      repetitions of the cheap parts (default 3; scale runs once)
 *   npm run bench -- --devices 2000                devices of the scale part (default 10,000 = 1,000 branches)
 *   npm run bench -- --rate 100,10                 arrivals/s of the reaction loads (default 100 and 10)
 *   npm run bench -- --cpu-prof /tmp/prof          hub children run with --cpu-prof into that folder
 *
 * Prints progress on stderr and, on stdout, a Markdown table of medians with the issue-12 targets.
 * BENCHMARKS.md records the results.
 */
import { cpus } from 'node:os';
import { fanout } from './fanout.js';
import { loadavg, log, median, type BenchOptions, type Row } from './harness.js';
import { ingest } from './ingest.js';
import { ingestKinds } from './ingest-kinds.js';
import { reaction } from './reaction.js';
import { scale } from './scale.js';
import { startup } from './startup.js';

const PARTS: Record<string, (o: BenchOptions) => Promise<Row[]>> = { ingest, kinds: ingestKinds, reaction, scale, fanout, startup };

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

const only = (arg('only') ?? Object.keys(PARTS).join(',')).split(',').map((s) => s.trim()).filter(Boolean);
const unknown = only.filter((p) => !PARTS[p]);
if (unknown.length) {
  console.error(`unknown part(s): ${unknown.join(', ')}; parts: ${Object.keys(PARTS).join(', ')}`);
  process.exit(2);
}
const opts: BenchOptions = { runs: Number(arg('runs') ?? 3), cpuProfDir: arg('cpu-prof'), scaleDevices: Number(arg('devices') ?? 10_000), reactionRates: (arg('rate') ?? '100,10').split(',').map(Number) };

const fmt = (x: number) => (!Number.isFinite(x) ? '—' : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));

function verdict(r: Row): { ratio: string; result: string } {
  const hub = median(r.hub);
  const bare = r.bare ? median(r.bare) : NaN;
  const ratio = r.bare ? hub / bare : NaN;
  if (!r.target) return { ratio: Number.isFinite(ratio) ? fmt(ratio) : '', result: '' };
  const v = r.target.kind === 'ratio' ? ratio : hub;
  const ok = r.target.op === '>=' ? v >= r.target.value : r.target.op === '<=' ? v <= r.target.value : v < r.target.value;
  const okPersist = r.unit === '%' ? hub === 100 : ok;
  return { ratio: Number.isFinite(ratio) ? fmt(ratio) : '', result: `${r.target.label}: **${okPersist ? 'PASS' : 'MISS'}**` };
}

const started = new Date();
const header = `${started.toISOString()} · ${cpus().length} cores (${cpus()[0]?.model ?? '?'}) · Node ${process.version} · load ${loadavg()} at start · runs ${opts.runs} · parts ${only.join(', ')}`;
log(header);
const rows: Row[] = [];
for (const p of only) {
  log(`— ${p} (load ${loadavg()})`);
  try {
    rows.push(...(await PARTS[p](opts)));
  } catch (e) {
    log(`${p} failed: ${String((e as Error).stack ?? e).slice(0, 2000)}`);
    rows.push({ part: p, metric: `failed: ${(e as Error).message.split('\n')[0].slice(0, 200)}`, unit: '', hub: [NaN] });
  }
}
const lines = [
  '',
  header,
  `load at end ${loadavg()} · ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s`,
  '',
  '| part | measurement | hub | bare aedes | hub/bare | target | runs (hub) |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((r) => {
    const v = verdict(r);
    const bare = r.bare ? `${fmt(median(r.bare))} ${r.unit}` : '';
    return `| ${r.part} | ${r.metric} | ${fmt(median(r.hub))} ${r.unit} | ${bare} | ${v.ratio} | ${v.result} | ${r.hub.map(fmt).join(' · ')} |`;
  }),
  '',
  ...rows.filter((r) => r.note).map((r) => `- ${r.part}, ${r.metric}: ${r.note}`),
];
console.log(lines.join('\n'));
process.exit(0);
