/**
 * /proc/net/nf_conntrack: the kernel's connection tracking table. It knows
 * flows that /proc/net/tcp no longer shows (short-lived connections in
 * TIME_WAIT) and the address translation of NATed flows (a Kubernetes service
 * IP and the pod it was rewritten to).
 *
 * Line layout: `ipv4 2 tcp 6 <ttl> <STATE> src= dst= sport= dport= [flags]
 * src= dst= sport= dport= [ASSURED] mark= …`: the first tuple is the original
 * direction, the second the reply direction.
 */
import { canonicalAddress } from '../../report';

export interface ConntrackTuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

export interface ConntrackFlow {
  state: string;
  original: ConntrackTuple;
  reply: ConntrackTuple;
}

/** TCP flows of a conntrack table's text; at most `max` (the rest are counted in `skipped`). */
export function parseConntrack(text: string, max: number): { flows: ConntrackFlow[]; skipped: number } {
  const flows: ConntrackFlow[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    const f = line.split(/\s+/);
    if (f[2] !== 'tcp') continue;
    if (flows.length >= max) {
      skipped++;
      continue;
    }
    const tuples: ConntrackTuple[] = [];
    let cur: Partial<ConntrackTuple> = {};
    for (let i = 4; i < f.length; i++) {
      const eq = f[i]!.indexOf('=');
      if (eq < 0) continue;
      const k = f[i]!.slice(0, eq);
      const v = f[i]!.slice(eq + 1);
      if (k === 'src') {
        if (cur.src !== undefined) {
          tuples.push(cur as ConntrackTuple);
          cur = {};
        }
        cur.src = canonicalAddress(v);
      } else if (k === 'dst') cur.dst = canonicalAddress(v);
      else if (k === 'sport') cur.sport = Number(v);
      else if (k === 'dport') cur.dport = Number(v);
    }
    if (cur.src !== undefined) tuples.push(cur as ConntrackTuple);
    const [original, reply] = tuples;
    if (!original || !reply || !complete(original) || !complete(reply)) continue;
    flows.push({ state: /^[A-Z_]+$/.test(f[5] ?? '') ? f[5]! : '', original, reply });
  }
  return { flows, skipped };
}

function complete(t: Partial<ConntrackTuple>): t is ConntrackTuple {
  return t.src !== undefined && t.dst !== undefined && Number.isInteger(t.sport) && Number.isInteger(t.dport);
}

/** True when the flow's destination was rewritten (DNAT): the reply comes from elsewhere. */
export function isDnat(flow: ConntrackFlow): boolean {
  return flow.reply.src !== flow.original.dst || flow.reply.sport !== flow.original.dport;
}
