/**
 * Every failure the sync engine reports carries a stable code, so that callers
 * (the CLI's exit message, metrics' `kind` label, tests) branch on the code and
 * never on message text.
 */
export const SYNC_ERROR_CODES = [
  'ZK_UNREACHABLE', // no member of the ensemble answered within the connect timeout
  'ZK_CHROOT_MISSING', // the connect string's chroot does not exist
  'ZK_AUTH_FAILED', // the server refused the credentials (session closed)
  'ZK_NO_AUTH', // the engine's identity lacks a permission on a znode
  'ZK_REQUEST_TOO_LARGE', // refused before sending: over jute.maxbuffer
  'ZK_CONNECTION_LOSS',
  'ZK_SESSION_EXPIRED',
  'ZK_NO_NODE',
  'ZK_NODE_EXISTS',
  'ZK_BAD_VERSION',
  'ZK_NOT_EMPTY',
  'ZK_NO_CHILDREN_FOR_EPHEMERALS',
  'ZK_UNIMPLEMENTED', // e.g. addWatch on a server older than 3.6
  'ZK_TIMEOUT', // a request got no answer within our own deadline
  'ZK_OTHER',
  'SYNC_USAGE', // bad command-line or API input
  'SYNC_STATE', // a cutover state file that does not fit the command
  'SYNC_STOPPED', // the engine was stopped while an operation waited
  'SYNC_WATCH_LIMIT', // one-shot watch mode: more znodes than --max-watched-znodes
] as const;

/** Every code, also the `kind` label values of `zk_sync_errors_total` (all exported at 0 from startup). */
export type SyncErrorCode = (typeof SYNC_ERROR_CODES)[number];

export class SyncError extends Error {
  constructor(
    readonly code: SyncErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(`${code}: ${message}`);
    this.name = 'SyncError';
  }
}

/** ZooKeeper's numeric error codes (KeeperException.Code) mapped to ours. */
const ZK_CODES: Record<number, SyncErrorCode> = {
  [-4]: 'ZK_CONNECTION_LOSS',
  [-6]: 'ZK_UNIMPLEMENTED',
  [-7]: 'ZK_TIMEOUT',
  [-101]: 'ZK_NO_NODE',
  [-102]: 'ZK_NO_AUTH',
  [-103]: 'ZK_BAD_VERSION',
  [-108]: 'ZK_NO_CHILDREN_FOR_EPHEMERALS',
  [-110]: 'ZK_NODE_EXISTS',
  [-111]: 'ZK_NOT_EMPTY',
  [-112]: 'ZK_SESSION_EXPIRED',
  [-115]: 'ZK_AUTH_FAILED',
};

export function codeOfZk(zkCode: number): SyncErrorCode {
  return ZK_CODES[zkCode] ?? 'ZK_OTHER';
}

/** The code of any error, SyncError or not (for metrics and decisions). */
export function errorCode(err: unknown): SyncErrorCode {
  return err instanceof SyncError ? err.code : 'ZK_OTHER';
}

export function isCode(err: unknown, ...codes: SyncErrorCode[]): boolean {
  return err instanceof SyncError && codes.includes(err.code);
}
