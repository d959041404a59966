/**
 * Holds the probe benchmark's load (bench/probe.ts: extra processes, loopback
 * connections, idle Podman containers on a private engine) until SIGINT/SIGTERM,
 * for measuring the probe by hand: prints one JSON line with the engine socket.
 *
 *     npx tsx bench/lib/probe-load-hold.ts [--procs 1000] [--conns 2000] [--containers 20]
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { BUSYBOX_IMAGE, ensureBusyboxImage, startPodmanEngine } from '../../test/helpers/podman';
import { HostLoad } from './host-load';
import { numberFlag } from './args';

const load = new HostLoad();
const names: string[] = [];
let stopEngine: (() => Promise<void>) | undefined;

function cleanup(): void {
  load.stop();
  if (names.length) execFileSync('podman', ['rm', '--force', '--ignore', '--time', '0', ...names], { stdio: 'ignore', timeout: 60_000 });
  names.length = 0;
  void stopEngine?.();
}

async function main(): Promise<void> {
  const engine = await startPodmanEngine();
  stopEngine = engine.stop;
  const figures = await load.start(numberFlag('procs', 1000), numberFlag('conns', 2000));
  await ensureBusyboxImage();
  const n = numberFlag('containers', 20);
  for (let i = 0; i < n; i += 5) {
    await Promise.all(
      Array.from({ length: Math.min(5, n - i) }, (_, j) => {
        const name = `bench-probe-hold-${process.pid}-${i + j}`;
        names.push(name);
        return promisify(execFile)('podman', ['run', '--detach', '--name', name, '--network', 'none', BUSYBOX_IMAGE, 'sh', '-c', "trap 'exit 0' TERM; while :; do sleep 5; done"], { timeout: 120_000 });
      }),
    );
  }
  console.log(JSON.stringify({ ...figures, containers: n, engineSocket: engine.socketPath }));
}

for (const s of ['SIGINT', 'SIGTERM'] as const)
  process.on(s, () => {
    cleanup();
    setTimeout(() => process.exit(0), 500);
  });
main().catch((err: unknown) => {
  console.error(err);
  cleanup();
  process.exit(1);
});
setInterval(() => undefined, 60_000);
