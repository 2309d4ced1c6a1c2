import * as echarts from 'echarts';
import type { Outcomes, WaitStats } from './outcomes.js';

type Row = [label: string, value: (o: Outcomes) => string];

const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)} %`);
const num = (x: number | null | undefined, unit = '') => (x === null || x === undefined ? '–' : `${x}${unit}`);
const wait = (w: WaitStats | undefined) => (w && w.count ? `${num(w.meanMin)} / ${num(w.p95Min)} min (${w.count})` : '–');

/** The outcome table's rows: one line per figure the issue asks for, services and alert types as the runs have them. */
function rows(runs: Outcomes[]): Row[] {
  const services = [...new Set(runs.flatMap((o) => Object.keys(o.waits)))].sort();
  const alerts = [...new Set(runs.flatMap((o) => Object.keys(o.alerts)))].sort();
  const kinds = [...new Set(runs.flatMap((o) => Object.keys(o.utilisation)))].sort();
  return [
    ['arrivals (ticket holders)', (o) => `${o.arrivals} (${o.ticketHolders})`],
    ['greeted by a robot ≤ 10 s', (o) => pct(o.greetedWithin10s)],
    ['welcomed (robot or screen) ≤ 10 s', (o) => pct(o.welcomedWithin10s)],
    ...services.map((s): Row => [`wait ${s}: mean / p95 (n)`, (o) => wait(o.waits[s])]),
    ['wait, kiosk-capable business', (o) => wait(o.kioskCapableWait)],
    ['guides offered / diverted to kiosks', (o) => `${o.guideOffers} / ${o.diverted}`],
    ['self-served at kiosks unguided', (o) => String(o.selfServed)],
    ['kiosk utilisation', (o) => pct(o.kioskUtilisation)],
    ['abandoned tickets', (o) => String(o.abandoned)],
    ['promotions seen per waiting customer', (o) => num(o.promotionsPerWaitingCustomer)],
    ...alerts.map(
      (a): Row => [
        `alert ${a}: raised / due, delay median / max`,
        (o) => {
          const x = o.alerts[a];
          return x ? `${x.raised} / ${x.expected}, ${num(x.medianDelaySec, ' s')} / ${num(x.maxDelaySec, ' s')}` : '–';
        },
      ],
    ),
    ...kinds.map((k): Row => [`busy share ${k}s: min / mean / max`, (o) => (o.utilisation[k] ? `${pct(o.utilisation[k].min)} / ${pct(o.utilisation[k].mean)} / ${pct(o.utilisation[k].max)}` : '–')]),
  ];
}

/** The runs side by side as a plain-text table (the hub's run first, then the baseline). */
export function table(runs: Outcomes[]): string {
  const head = ['', ...runs.map((o) => (o.coordinated ? `with branch-hub (${o.scale}×)` : `no coordination (${o.scale}×)`))];
  const body = rows(runs).map(([label, value]) => [label, ...runs.map(value)]);
  const widths = head.map((_, i) => Math.max(...[head, ...body].map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
  const first = runs[0];
  return [`${first.scenario}, ${first.hours}, seed ${first.seed}`, line(head), ...body.map(line)].join('\n');
}

/**
 * An hourly chart a branch manager reads at a glance: arrivals per hour (bars) and the p95 wait of each
 * run (lines), rendered to SVG by Apache ECharts' server-side renderer, the dashboard's chart library.
 */
export function chartSvg(runs: Outcomes[]): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 960, height: 480 });
  const hours = runs[0].hourly.map((h) => h.hour);
  const label = (o: Outcomes) => (o.coordinated ? '有 branch-hub / with the hub' : '无协同 / no coordination');
  chart.setOption({
    animation: false,
    backgroundColor: '#fff',
    title: { text: `${runs[0].scenario} — 每小时客流与等候 / arrivals and waits by hour`, left: 'center', textStyle: { fontSize: 16 } },
    legend: { top: 32 },
    grid: { top: 80, left: 64, right: 64, bottom: 48 },
    xAxis: { type: 'category', data: hours },
    yAxis: [
      { type: 'value', name: '到店 arrivals / h' },
      { type: 'value', name: 'p95 等候 wait (min)', position: 'right' },
    ],
    series: [
      { name: '到店 arrivals', type: 'bar', data: runs[0].hourly.map((h) => h.arrivals), itemStyle: { color: '#c8d3e6' } },
      ...runs.map((o) => ({
        name: `p95 ${label(o)}`,
        type: 'line',
        yAxisIndex: 1,
        data: o.hourly.map((h) => h.p95WaitMin),
        lineStyle: { width: 3, type: o.coordinated ? 'solid' : 'dashed' },
        itemStyle: { color: o.coordinated ? '#1f7a4d' : '#b23b3b' },
      })),
    ],
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}
