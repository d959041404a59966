/** The engine's own view of a znode, independent of the client library. */

/** ZooKeeper permission bits. */
export const Perm = { READ: 1, WRITE: 2, CREATE: 4, DELETE: 8, ADMIN: 16, ALL: 31 } as const;

export interface Acl {
  perms: number;
  scheme: string;
  id: string;
}

export const OPEN_ACL: readonly Acl[] = [{ perms: Perm.ALL, scheme: 'world', id: 'anyone' }];

export interface Stat {
  version: number;
  /** Children version: also the parent's counter for sequential names. */
  cversion: number;
  aversion: number;
  /** 0 for persistent znodes; the owner's session id otherwise. */
  ephemeralOwner: bigint;
  /** Milliseconds since the epoch, by the server's clock. */
  mtime: number;
  ctime: number;
  mzxid: bigint;
  dataLength: number;
  numChildren: number;
}

/** Create modes the wire protocol knows (container and TTL are refused by the library). */
export const CreateMode = { PERSISTENT: 0, EPHEMERAL: 1, PERSISTENT_SEQUENTIAL: 2, EPHEMERAL_SEQUENTIAL: 3 } as const;

/** One write of a multi batch. */
export type WriteOp =
  | { op: 'create'; path: string; data: Buffer | null; acl: readonly Acl[]; mode: number }
  | { op: 'setData'; path: string; data: Buffer | null; version: number }
  | { op: 'delete'; path: string; version: number }
  | { op: 'check'; path: string; version: number };

/** A watch notification, path relative to the client's chroot. */
export interface WatchEvent {
  type: 'created' | 'deleted' | 'dataChanged' | 'childrenChanged';
  path: string;
  /** process.hrtime.bigint() when the notification was decoded. */
  receivedAt: bigint;
}

export type ConnectionState = 'connected' | 'disconnected' | 'expired' | 'authFailed' | 'closed';
