/** Real child processes for the probe tests: started here, killed here, by pid. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Test } from 'tap';

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** The first line the child printed. */
  line: string;
}

/** Runs `node -e code` and waits for its first line on stdout (its "ready"). */
export async function nodeChild(t: Test, code: string): Promise<Child> {
  const proc = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += String(d);
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl).trim());
    });
    proc.once('exit', (code) => reject(new Error(`child exited (${code}) before it was ready`)));
  });
  return { proc, pid: proc.pid!, line };
}

/** A loopback TCP server child; its line is the port. */
export async function tcpServer(t: Test, host = '127.0.0.1'): Promise<Child & { port: number }> {
  const c = await nodeChild(t, `const s=require('net').createServer(()=>{}).listen(0,'${host}',()=>console.log(s.address().port));setInterval(()=>{},1e3)`);
  return { ...c, port: Number(c.line) };
}

/** A TCP client child connected to host:port; ready once connected. */
export function tcpClient(t: Test, port: number, host = '127.0.0.1'): Promise<Child> {
  return nodeChild(t, `const c=require('net').connect(${port},'${host}',()=>console.log('connected'));setInterval(()=>{},1e3)`);
}

export async function stop(c: Child): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  c.proc.kill('SIGTERM');
  await once(c.proc, 'exit');
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
