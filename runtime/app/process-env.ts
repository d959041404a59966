/**
 * The environment the app's Deployment gives its process (constructs/monitoring-app.ts), for what
 * only the process's start can set; bench/app.ts runs the app with it too.
 *
 * `--v8-pool-size=1`: one V8 platform worker thread instead of one per core. Those threads help
 * both of the app's heaps with their collections (parallel scavenges, concurrent marking), and
 * each collection woke them, at a cost of its own on the VMs measured here. At 1,000 probes
 * (bench/app.ts, two pairs alternated) the app's threads other than the front and the model
 * took 3.34 and 3.35 % of a core against 5.40 and 4.98 % with V8's default pool, the front and
 * the model thread no more, and the whole app 26.73 and 28.22 % against 29.36 and 30.23 %
 * (docs/app.md, round 12).
 */
export const APP_PROCESS_ENV: Readonly<Record<string, string>> = Object.freeze({ NODE_OPTIONS: '--v8-pool-size=1' });
