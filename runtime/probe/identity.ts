/** Who this probe is and which host it describes. */
import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import { encodeIdPart, hostNodeId } from '../report';
import type { ProbeIdentity } from './collector';

/**
 * The identity of a probe process. The probe id is fresh per process start, so
 * the app can tell a restarted probe (whose seq starts again) from a late report.
 */
export function probeIdentity(hostname = osHostname()): ProbeIdentity {
  return {
    hostname,
    hostId: hostNodeId(hostname),
    probeId: `${encodeIdPart(hostname)}/${randomBytes(4).toString('hex')}`,
  };
}
