/**
 * The load the probe benchmarks run under: extra sleeping processes (children of one shell,
 * in their own process group so one kill ends them all) and loopback TCP connections (one
 * server, a few clients holding many connections each). Everything started is killed by
 * `stop()`, which is safe to call more than once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';

export interface HostLoadFigures {
  extraProcesses: number;
  pids: number;
  connections: number;
}

/** The first line a child prints on stdout (its "ready" signal). */
export async function firstLine(c: ChildProcess): Promise<string> {
  let out = '';
  for await (const chunk of c.stdout!) {
    out += String(chunk);
    if (out.includes('\n')) return out.slice(0, out.indexOf('\n'));
  }
  throw new Error('child ended before it was ready');
}

const countPids = (): number => readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;

export class HostLoad {
  private readonly children: ChildProcess[] = [];
  private sleeperGroup = 0;

  /** Starts `processes` sleepers and `connections` loopback connections over `clients` client processes. */
  async start(processes: number, connections: number, clients = 4): Promise<HostLoadFigures> {
    const before = countPids();
    const sh = spawn('sh', ['-c', `i=0; while [ $i -lt ${processes} ]; do sleep 900 & i=$((i+1)); done; echo ready; wait`], {
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    this.sleeperGroup = sh.pid!;
    this.children.push(sh);
    await firstLine(sh);
    const server = this.node("const s=require('net').createServer(()=>{});s.maxConnections=1e6;s.listen(0,'127.0.0.1',()=>console.log(s.address().port));");
    const port = Number(await firstLine(server));
    const per = Math.ceil(connections / clients);
    const clientProcs = Array.from({ length: clients }, () =>
      this.node(`const net=require('net');let n=0;for(let i=0;i<${per};i++){const c=net.connect(${port},'127.0.0.1',()=>{if(++n===${per})console.log('up')});c.on('error',e=>{console.error(e.message);process.exit(1)})}setInterval(()=>{},1e3)`),
    );
    await Promise.all(clientProcs.map(firstLine));
    const after = countPids();
    return { extraProcesses: after - before, pids: after, connections: per * clients };
  }

  /** A child process the load owns (killed by stop()). */
  track(c: ChildProcess): ChildProcess {
    this.children.push(c);
    return c;
  }

  stop(): void {
    if (this.sleeperGroup > 0) {
      try {
        process.kill(-this.sleeperGroup, 'SIGKILL');
      } catch {
        // already gone
      }
      this.sleeperGroup = 0;
    }
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }

  private node(code: string): ChildProcess {
    return this.track(spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] }));
  }
}
