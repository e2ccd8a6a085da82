/**
 * Benchmarks: `npm run bench -- <name> [--engine pglite|postgres]`. Each prints its figures and
 * ends with one JSON line holding all of them, with ratios to a baseline measured in the same run.
 */
const [name, ...args] = process.argv.slice(2);
const benches: Record<string, () => Promise<unknown>> = {
  chat: async () => (await import('./chat.ts')).main(args),
  'routing-engine': async () => (await import('./routing-engine.ts')).main(),
  'routing-server': async () => (await import('./routing-server.ts')).main(args),
  smpp: async () => (await import('./smpp.ts')).main(args),
  ingest: async () => (await import('./ingest.ts')).main(args),
};
const run = name ? benches[name] : undefined;
if (!run) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [options]`);
  process.exit(2);
}
await run();
process.exit(0);
