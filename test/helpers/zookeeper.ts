/**
 * Real ZooKeeper 3.8 servers for tests: single-server ensembles and a
 * three-member ensemble on loopback, one JVM per member (Debian's package,
 * `QuorumPeerMain` started directly; see docs/zk-sync.md and
 * ../shared/notes/real-services.md).
 *
 * Guarantees the tests rely on:
 * - ports come from a per-process window below the ephemeral range (see freePorts), and a
 *   start that loses a port race is retried on new ports, so parallel test files never collide;
 * - a server is ready when `ruok` answers `imok` and `srvr` reports a mode
 *   (an ensemble member without quorum answers `imok` but serves nothing);
 * - every JVM is paired with a watchdog shell that SIGKILLs it when this test
 *   process dies by any means (even SIGKILL from tap's timeout), because the
 *   watchdog's stdin is a pipe from us and reads EOF when we are gone;
 * - data dirs are temporary and removed by `stop()`.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const ZK_JAR = '/usr/share/java/zookeeper.jar';
const ZK_CONF_DIR = '/etc/zookeeper/conf';
/**
 * Netty jars the Netty connection factory (TLS) needs that the Class-Path of Debian's
 * zookeeper.jar manifest leaves out (test/constructs/zookeeper-tls.test.ts runs TLS members).
 */
const NETTY_EXTRA_JARS = ['/usr/share/java/netty-codec.jar', '/usr/share/java/netty-resolver.jar'].filter((j) => existsSync(j));
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const START_ATTEMPTS = 3;

/** Why ZooKeeper tests cannot run here, or undefined when they can. */
export function zookeeperSkipReason(): string | undefined {
  if (!existsSync(ZK_JAR)) return `ZooKeeper is not installed (${ZK_JAR}; scripts/setup.sh: apt-get install zookeeper)`;
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore', timeout: 15_000 });
  } catch {
    return 'java is not installed';
  }
  return undefined;
}

export interface ZkServerOptions {
  /** JVM heap cap; small so that several servers fit on a CI machine. @default '256m' */
  heap?: string;
  /** @default 500: short ticks make session timeouts (2-20 ticks) short in tests */
  tickTime?: number;
}

/** One ensemble member: a JVM started, stopped and restarted by pid. */
export class ZkServer {
  private proc: ChildProcess | undefined;
  private watchdog: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private log = '';

  constructor(
    readonly myid: number,
    readonly dir: string,
    readonly clientPort: number,
    configText: string,
    private readonly heap: string,
  ) {
    mkdirSync(path.join(dir, 'data'), { recursive: true });
    writeFileSync(path.join(dir, 'zoo.cfg'), configText);
    writeFileSync(path.join(dir, 'data', 'myid'), `${myid}\n`);
  }

  get pid(): number | undefined {
    return this.proc?.exitCode === null && this.proc.signalCode === null ? this.proc.pid : undefined;
  }

  get running(): boolean {
    return this.pid !== undefined;
  }

  /** `host:port` of this member. */
  get address(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  /** Starts the JVM (does not wait for readiness; see `waitReady`). */
  start(): void {
    if (this.running) return;
    this.log = '';
    const proc = spawn(
      'java',
      [
        `-Xmx${this.heap}`,
        '-Xss512k',
        '-XX:+UseSerialGC',
        '-Dzookeeper.forceSync=no',
        `-Dzookeeper.log.dir=${this.dir}`,
        '-cp',
        [ZK_CONF_DIR, ZK_JAR, ...NETTY_EXTRA_JARS].join(':'),
        'org.apache.zookeeper.server.quorum.QuorumPeerMain',
        path.join(this.dir, 'zoo.cfg'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (b: Buffer): void => {
      // Only the tail matters for a failure message.
      this.log = (this.log + b.toString('utf8')).slice(-8000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    this.proc = proc;
    this.watchdog = spawn('sh', ['-c', `read _ ; kill -9 ${proc.pid} 2>/dev/null`], { stdio: ['pipe', 'ignore', 'ignore'] });
    this.watchdog.unref();
    (this.watchdog.stdin as unknown as { unref?: () => void })?.unref?.();
    proc.unref();
    (proc.stdout as unknown as { unref?: () => void })?.unref?.();
    (proc.stderr as unknown as { unref?: () => void })?.unref?.();
  }

  /** Waits until the member answers `imok` and reports a serving mode. */
  async waitReady(timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`ZooKeeper ${this.myid} exited while starting:\n${this.log}`);
      const ruok = await fourLetter(this.clientPort, 'ruok').catch(() => '');
      if (ruok === 'imok') {
        const srvr = await fourLetter(this.clientPort, 'srvr').catch(() => '');
        if (/Mode: (standalone|leader|follower)/.test(srvr)) return;
      }
      await sleep(100);
    }
    throw new Error(`ZooKeeper ${this.myid} on port ${this.clientPort} not ready after ${timeoutMs} ms:\n${this.log}`);
  }

  /** `Mode:` from `srvr` (standalone, leader, follower), or undefined when not serving. */
  async mode(): Promise<string | undefined> {
    const srvr = await fourLetter(this.clientPort, 'srvr').catch(() => '');
    return /Mode: (\w+)/.exec(srvr)?.[1];
  }

  /** Graceful stop (SIGTERM), SIGKILL after a timeout. */
  async stop(): Promise<void> {
    await this.signalAndWait('SIGTERM');
  }

  /** Hard kill (SIGKILL): what a crashed member looks like to the others. */
  async kill(): Promise<void> {
    await this.signalAndWait('SIGKILL');
  }

  /** Stops (SIGTERM) and starts the member again, keeping its data. */
  async restart(): Promise<void> {
    await this.stop();
    this.start();
    await this.waitReady();
  }

  private async signalAndWait(signal: NodeJS.Signals): Promise<void> {
    const pid = this.pid;
    if (pid !== undefined) {
      try {
        process.kill(pid, signal);
      } catch {
        /* already gone */
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        this.exited.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        await this.exited;
      }
    }
    const dog = this.watchdog;
    this.watchdog = undefined;
    if (dog?.pid !== undefined && dog.exitCode === null) {
      try {
        process.kill(dog.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

/** A running ensemble of one or three members. */
export class ZkEnsemble {
  constructor(
    readonly servers: ZkServer[],
    private readonly root: string,
  ) {}

  /** Connection string for clients: every member, comma-separated. */
  get connectString(): string {
    return this.servers.map((s) => s.address).join(',');
  }

  /** Stops every member and removes the data dirs; safe to call twice. */
  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
    rmSync(this.root, { recursive: true, force: true });
    live.delete(this);
  }

  /** The member that currently leads, if any. */
  async leader(): Promise<ZkServer | undefined> {
    for (const s of this.servers) if ((await s.mode()) === 'leader') return s;
    return undefined;
  }
}

const live = new Set<ZkEnsemble>();
// Last line of defence when a test file ends without its teardown (an
// uncaught exception): kill what is still running. The watchdogs cover SIGKILL.
process.once('exit', () => {
  for (const e of live) {
    for (const s of e.servers) {
      const pid = s.pid;
      if (pid !== undefined) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }
});

/**
 * Starts an ensemble of `size` members (1 or 3) on free loopback ports and
 * waits until every member serves. Retries on new ports when a port was taken
 * between the probe and the JVM's bind.
 */
export async function startEnsemble(size: 1 | 3 = 1, options: ZkServerOptions = {}): Promise<ZkEnsemble> {
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const root = mkdtempSync(path.join(os.tmpdir(), 'zk-test-'));
    const ports = await freePorts(size * 3);
    const tick = options.tickTime ?? 500;
    const common = [
      `tickTime=${tick}`,
      'initLimit=20',
      'syncLimit=10',
      'admin.enableServer=false',
      '4lw.commands.whitelist=*',
      'maxClientCnxns=0',
      'preAllocSize=4096',
      'autopurge.purgeInterval=0',
    ];
    const servers: ZkServer[] = [];
    for (let i = 0; i < size; i++) {
      const dir = path.join(root, `s${i + 1}`);
      const lines = [...common, `dataDir=${path.join(dir, 'data')}`, `clientPort=${ports[i * 3]!}`, 'clientPortAddress=127.0.0.1'];
      if (size > 1) {
        for (let j = 0; j < size; j++) lines.push(`server.${j + 1}=127.0.0.1:${ports[j * 3 + 1]!}:${ports[j * 3 + 2]!}`);
      }
      servers.push(new ZkServer(i + 1, dir, ports[i * 3]!, lines.join('\n') + '\n', options.heap ?? '256m'));
    }
    const ensemble = new ZkEnsemble(servers, root);
    live.add(ensemble);
    for (const s of servers) s.start();
    try {
      await Promise.all(servers.map((s) => s.waitReady()));
      return ensemble;
    } catch (err) {
      lastError = err;
      await ensemble.stop();
      if (!/Address already in use|BindException/.test(String(err))) throw err;
    }
  }
  throw lastError;
}

/** Sends a four-letter-word command and returns the whole answer. */
export function fourLetter(port: number, cmd: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let out = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`${cmd} timed out`));
    }, timeoutMs);
    sock.on('connect', () => sock.write(cmd));
    sock.on('data', (b) => (out += b.toString('utf8')));
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(out.trim());
    });
  });
}

/**
 * Ports for ZooKeeper members come from 20000-31999, below the kernel's ephemeral range
 * (32768+), in a window chosen by this process's pid: a member that restarts must get its own
 * port back, and a port from the ephemeral range can be handed to any other test's client or
 * listener while the member is down. Ports this process handed out are never handed out again.
 */
const PORT_RANGE = { first: 20_000, last: 31_999 } as const;
const handedOut = new Set<number>();
let cursor = PORT_RANGE.first + ((process.pid * 97) % (PORT_RANGE.last - PORT_RANGE.first));

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** `n` distinct TCP ports on loopback that are free now and were not handed out before by this process. */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tried = 0; ports.length < n; tried++) {
    if (tried > PORT_RANGE.last - PORT_RANGE.first) throw new Error(`no ${n} free ports in ${PORT_RANGE.first}-${PORT_RANGE.last}`);
    const port = cursor;
    cursor = cursor >= PORT_RANGE.last ? PORT_RANGE.first : cursor + 1;
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    ports.push(port);
  }
  return ports;
}

/**
 * Ends a live session the way a second client on it can: a raw connection to the first server of
 * `connectString` sends the session's ConnectRequest and a CloseSession request in one write
 * (ZooKeeper's wire format: length-prefixed jute records; closeSession is op -11). The server
 * moves the session to this connection, which drops the owner's, and closes it right after, so
 * the owner's next reconnect learns that it expired. A client library's close waits for the
 * connect answer first, and under load the owner's own reconnect took the session back in that
 * round trip every time (a fresh-clone CI run failed so, three attempts in a row).
 */
export async function expireSession(connectString: string, sessionId: Buffer, password: Buffer, timeoutMs = 10_000): Promise<void> {
  const [host, port] = hostPort(connectString.split(',')[0]!.split('/')[0]!);
  const connect = Buffer.alloc(4 + 4 + 8 + 4 + 8 + 4 + password.length + 1);
  let o = connect.writeInt32BE(connect.length - 4, 0);
  o = connect.writeInt32BE(0, o); // protocolVersion
  o = connect.writeBigInt64BE(0n, o); // lastZxidSeen
  o = connect.writeInt32BE(4000, o); // timeOut
  o += sessionId.copy(connect, o, 0, 8);
  o = connect.writeInt32BE(password.length, o);
  o += password.copy(connect, o);
  connect.writeUInt8(0, o); // readOnly: false
  const close = Buffer.alloc(12);
  close.writeInt32BE(8, 0);
  close.writeInt32BE(1, 4); // xid
  close.writeInt32BE(-11, 8); // closeSession
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`could not close session 0x${sessionId.toString('hex')} on ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(Buffer.concat([connect, close])));
    socket.on('data', () => undefined);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // The server closes the connection once the session is closed.
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function hostPort(hp: string): [string, number] {
  const at = hp.lastIndexOf(':');
  return [hp.slice(0, at).replace(/^\[|\]$/g, ''), Number(hp.slice(at + 1))];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
