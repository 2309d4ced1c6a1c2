/**
 * How node runs the hub — these flags and HUB_ENTRY: `npm start` (package.json, which a spec keeps in step), the demo,
 * and every test and benchmark that spawns the built hub (device-sims/hub-process.ts).
 *
 * A larger young generation (semi-spaces of 64 MiB instead of 16): under a burst of device messages the rows,
 * promises and events of a few thousand messages wait ~100 ms for their group commit — long enough to survive two
 * default scavenges, so V8 copied and promoted them. The ingest bench's main thread spent 21–24 % in GC before,
 * 15–16 % with it (BENCHMARKS.md, issue 12 part 7). It costs up to ~100 MiB more resident memory under load only:
 * the young generation grows when survivors make it worth it.
 */
export const HUB_NODE_FLAGS = ['--max-semi-space-size=64'];

/** What node runs, from the project's root: the built hub bundled into one file (scripts/bundle.mjs). */
export const HUB_ENTRY = 'dist/hub.mjs';
