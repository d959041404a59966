/**
 * A real container engine for tests: Podman's Docker-compatible API service on
 * a private unix socket, a locally built busybox image (no registry is
 * reachable here) and containers run through the podman CLI.
 *
 * Test files run in parallel (tap jobs) and share one Podman storage, so every
 * call gets its own socket directory, the image build is guarded by a lock
 * file, and container names carry the test process's pid.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, stat, symlink, unlink, mkdir, copyFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const BUSYBOX_IMAGE = 'localhost/busybox:test';
const BUSYBOX_APPLETS = ['sh', 'sleep', 'httpd', 'nc'];
const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];
const IMAGE_LOCK = path.join(os.tmpdir(), 'orchestrator-busybox-image.lock');
/**
 * Held by the test process whose `podman system service` runs, from its start until it is
 * stopped, and while a process checks or builds the test image: one service at a time on the
 * machine, and no other podman command while one starts. Several at once (tap runs two files at once)
 * stalled each other for minutes on this project's machines: three started together took
 * 512-519 s to answer `/version`, one alone 4 s, and in fresh-clone CI runs 3-4 Podman test files
 * timed out even with the starts alone taken one at a time. Broken only when its holder is gone.
 */
const SERVICE_LOCK = path.join(os.tmpdir(), 'orchestrator-podman-service.lock');
/** Longest wait for the service lock: every other Podman test file's run. */
const SERVICE_LOCK_WAIT_MS = 10 * 60_000;
/** This process's hold of SERVICE_LOCK, shared by its services (a test may run a second one beside the first). */
let serviceLock: { holders: number; release: Promise<() => Promise<void>> } | null = null;

async function holdServiceLock(): Promise<() => Promise<void>> {
  if (serviceLock === null) serviceLock = { holders: 0, release: acquireLock(SERVICE_LOCK, SERVICE_LOCK_WAIT_MS, Infinity) };
  const held = serviceLock;
  held.holders++;
  let release: () => Promise<void>;
  try {
    release = await held.release;
  } catch (err) {
    if (--held.holders === 0 && serviceLock === held) serviceLock = null;
    throw err;
  }
  let done = false;
  return async () => {
    if (done) return;
    done = true;
    if (--held.holders > 0) return;
    if (serviceLock === held) serviceLock = null;
    await release();
  };
}
/** A lock older than this belongs to a build that died without cleaning up. */
const STALE_LOCK_MS = 120_000;
/** A service answered in about 4 s alone; under a fresh-clone CI run it once took over 20 s. */
const READY_TIMEOUT_MS = 45_000;
const CLI_TIMEOUT_MS = 60_000;

let skipReason: { reason: string | undefined } | undefined;

/**
 * Why Podman tests cannot run here, or undefined when they can. Synchronous so
 * that test files can pass it straight to `t.test(name, { skip }, fn)`.
 */
export function podmanSkipReason(): string | undefined {
  skipReason ??= { reason: probeSkipReason() };
  return skipReason.reason;
}

function probeSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'Podman tests need Linux';
  if (process.getuid?.() !== 0) return 'Podman tests need root (rootful Podman with runc and vfs; see scripts/setup.sh)';
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    return 'podman is not installed or does not run (scripts/setup.sh installs podman, runc, busybox-static)';
  }
  if (findBusybox() === undefined) return 'busybox-static is not installed (scripts/setup.sh installs it)';
  return undefined;
}

function findBusybox(): string | undefined {
  return BUSYBOX_CANDIDATES.find((p) => existsSync(p));
}

async function podman(args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync('podman', args, { timeout: CLI_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`podman ${args.join(' ')} failed: ${(e.stderr ?? '').trim() || e.message}`);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------
// The API service

export interface PodmanEngine {
  socketPath: string;
  stop(): Promise<void>;
}

/**
 * True when `GET /_ping` on the socket answers 200. Not `/version`: podman answers that by
 * asking its OCI runtime and conmon for their versions, and on a loaded machine (the full suite
 * on 2 cores) each answer took 14 s, so a check with a 1 s timeout never saw one and the
 * service was declared dead while it was up (podman's debug log showed every request answered
 * 200, late). A ping answers from the API server alone; it gets 5 s, as a late answer is still
 * an answer.
 */
function pingAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Runs `podman system service` on a fresh socket and waits until it answers. */
export async function startPodmanEngine(): Promise<PodmanEngine> {
  const reason = podmanSkipReason();
  if (reason !== undefined) throw new Error(reason);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'podman-engine-'));
  const socketPath = path.join(dir, 'engine.sock');
  const release = await holdServiceLock();
  let engine: PodmanEngine;
  try {
    // Nor beside this process's own image check (tests start both at once).
    await imageReady?.catch(() => undefined);
    engine = await startService(dir, socketPath);
  } catch (err) {
    await release();
    throw err;
  }
  return {
    socketPath: engine.socketPath,
    stop: async () => {
      try {
        await engine.stop();
      } finally {
        await release();
      }
    },
  };
}

async function startService(dir: string, socketPath: string): Promise<PodmanEngine> {
  const child = spawn('podman', ['--log-level=debug', 'system', 'service', '--time=0', `unix://${socketPath}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  const pid = child.pid;
  // Keep the end of stderr for the error message if the service never comes up.
  let stderrTail = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderrTail = (stderrTail + s).slice(-4096);
  });
  // If the test process dies without calling stop(), do not leave the service behind.
  const killOnExit = (): void => {
    if (pid !== undefined && child.exitCode === null) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    if (pid !== undefined && child.exitCode === null && child.signalCode === null) {
      process.kill(pid, 'SIGTERM');
      if (!(await waitForExit(child, 5000))) {
        process.kill(pid, 'SIGKILL');
        await waitForExit(child, 5000);
      }
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await pingAnswers(socketPath))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`podman system service did not come up on ${socketPath}: ${stderrTail.trim() || 'no output'}`);
    }
    await sleep(50);
  }
  return { socketPath, stop };
}

// ---------------------------------------------------------------------------
// The busybox image

async function imageExists(): Promise<boolean> {
  try {
    await execFileAsync('podman', ['image', 'exists', BUSYBOX_IMAGE], { timeout: CLI_TIMEOUT_MS });
    return true;
  } catch {
    return false;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** An exclusive lock across processes: O_EXCL create of a file holding our pid. */
async function acquireLock(lockPath: string, timeoutMs: number, staleMs = STALE_LOCK_MS): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => unlink(lockPath).catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // Held by someone: break it only when its holder is gone or it is ancient.
    try {
      const [owner, info] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
      const ownerPid = Number(owner);
      const stale = (Number.isInteger(ownerPid) && ownerPid > 0 && !pidAlive(ownerPid)) || Date.now() - info.mtimeMs > staleMs;
      if (stale) await unlink(lockPath).catch(() => undefined);
    } catch {
      // The holder released it between our open and our read: just retry.
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockPath}`);
    await sleep(100);
  }
}

async function importBusyboxImage(): Promise<void> {
  const busybox = findBusybox();
  if (busybox === undefined) throw new Error('busybox-static is not installed');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'busybox-image-'));
  try {
    const bin = path.join(dir, 'root', 'bin');
    await mkdir(bin, { recursive: true });
    await copyFile(busybox, path.join(bin, 'busybox'));
    for (const applet of BUSYBOX_APPLETS) await symlink('busybox', path.join(bin, applet));
    const tarball = path.join(dir, 'busybox.tar');
    await execFileAsync('tar', ['-C', path.join(dir, 'root'), '--owner=0', '--group=0', '-cf', tarball, '.'], { timeout: CLI_TIMEOUT_MS });
    await podman(['import', '--quiet', tarball, BUSYBOX_IMAGE]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let imageReady: Promise<string> | undefined;

/**
 * `localhost/busybox:test` (static busybox with sh, sleep, httpd, nc), built
 * once per machine. Safe to call from many test files at once: the build runs
 * under a lock and re-checks for the image after taking it.
 */
export function ensureBusyboxImage(): Promise<string> {
  imageReady ??= (async () => {
    // Not beside another process's service start (see SERVICE_LOCK).
    const hold = await holdServiceLock();
    try {
      if (await imageExists()) return BUSYBOX_IMAGE;
      const release = await acquireLock(IMAGE_LOCK, 90_000);
      try {
        if (!(await imageExists())) await importBusyboxImage();
      } finally {
        await release();
      }
      return BUSYBOX_IMAGE;
    } finally {
      await hold();
    }
  })().catch((err: unknown) => {
    imageReady = undefined; // let a later call try again
    throw err;
  });
  return imageReady;
}

// ---------------------------------------------------------------------------
// Containers

let nameCounter = 0;
/** Names left to remove if the process exits before the tests' teardowns ran. */
const liveNames = new Set<string>();

process.on('exit', () => {
  if (liveNames.size === 0) return;
  try {
    execFileSync('podman', ['rm', '--force', '--ignore', '--time', '0', ...liveNames], { stdio: 'ignore', timeout: 30_000 });
  } catch {
    // best effort on the way out
  }
});

/** Unique per process and per call, so parallel test files never collide. */
export function uniqueContainerName(prefix: string): string {
  nameCounter += 1;
  return `${prefix}-${process.pid}-${nameCounter}`;
}

export interface RunOptions {
  /** bridge networking is not set up on these machines; default none */
  network?: 'host' | 'none';
  tty?: boolean;
  labels?: Record<string, string>;
  /** `podman create` only: the container exists but is not started */
  createOnly?: boolean;
  image?: string;
}

/**
 * `podman run -d` (or `create`) of `args` in the busybox image; returns the
 * container id. Register `removeContainer(name)` with `t.teardown` before
 * calling, so a failing test still cleans up.
 */
export async function runContainer(name: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const cli = opts.createOnly ? ['create'] : ['run', '--detach'];
  cli.push('--name', name, '--network', opts.network ?? 'none');
  if (opts.tty) cli.push('--tty');
  for (const [k, v] of Object.entries(opts.labels ?? {})) cli.push('--label', `${k}=${v}`);
  cli.push(opts.image ?? BUSYBOX_IMAGE, ...args);
  liveNames.add(name);
  const out = await podman(cli);
  const id = out.trim().split('\n').pop() ?? '';
  if (!/^[0-9a-f]{64}$/.test(id)) throw new Error(`podman ${cli[0]} printed no container id: ${out.slice(0, 200)}`);
  return id;
}

/** Removes the container at once (no stop grace); a missing container is fine. */
export async function removeContainer(name: string): Promise<void> {
  await podman(['rm', '--force', '--ignore', '--time', '0', name]);
  liveNames.delete(name);
}

/** Any other podman CLI call a test needs (start, kill, wait, ...). */
export function podmanCli(args: string[]): Promise<string> {
  return podman(args);
}
