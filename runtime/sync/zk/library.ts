/**
 * The parts of node-zookeeper-client 1.1.3 (untyped, unmaintained) that we use,
 * typed here once so that the rest of runtime/sync never touches `any`. The
 * internal shapes (ConnectionManager, WatcherManager) are what our extensions
 * in guards.ts and add-watch.ts hook into; they are pinned by the exact
 * version in package.json and covered by test/sync/zk-client.test.ts.
 */
/* eslint-disable @typescript-eslint/no-require-imports */

export interface LibStat {
  czxid: Buffer;
  mzxid: Buffer;
  ctime: Buffer;
  mtime: Buffer;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: Buffer;
  dataLength: number;
  numChildren: number;
  pzxid: Buffer;
}

export interface LibId {
  scheme: string;
  id: string;
}
export interface LibAcl {
  permission: number;
  id: LibId;
}

export interface LibException extends Error {
  getCode(): number;
}

export interface LibState {
  name: string;
  code: number;
}

export interface LibWatcherEvent {
  type: number;
  state: number;
  path: string;
}

export interface LibRequest {
  header: { xid: number; type: number; byteLength(): number } | null;
  payload: { byteLength(): number } | null;
  toBuffer(): Buffer;
}

export interface LibConnectionManager {
  xid: number;
  chrootPath: string | undefined;
  state: number;
  socket: { destroy(): void } | undefined;
  watcherManager: { emit(event: LibWatcherEvent): void };
  queue(request: LibRequest | object, callback?: (err: LibException | null, response?: unknown) => void): void;
}

type Cb<T> = (err: LibException | null, value: T, stat: LibStat) => void;

export interface LibTransaction {
  create(path: string, data: Buffer | null | undefined, acls: LibAcl[], mode: number): LibTransaction;
  setData(path: string, data: Buffer | null | undefined, version: number): LibTransaction;
  check(path: string, version: number): LibTransaction;
  remove(path: string, version: number): LibTransaction;
  commit(cb: (err: LibException | null, results: { type: number; err?: number; path?: string; stat?: LibStat }[]) => void): void;
}

export interface LibClient {
  connectionManager: LibConnectionManager;
  connect(): void;
  close(): void;
  getState(): LibState;
  getSessionId(): Buffer;
  getSessionPassword(): Buffer;
  getSessionTimeout(): number;
  addAuthInfo(scheme: string, auth: Buffer): void;
  on(event: 'state', listener: (state: LibState) => void): void;
  create(path: string, data: Buffer | null | undefined, acls: LibAcl[], mode: number, cb: (err: LibException | null, path: string) => void): void;
  remove(path: string, version: number, cb: (err: LibException | null) => void): void;
  setData(path: string, data: Buffer | null | undefined, version: number, cb: (err: LibException | null, stat: LibStat) => void): void;
  getData(path: string, cb: Cb<Buffer | undefined>): void;
  setACL(path: string, acls: LibAcl[], version: number, cb: (err: LibException | null, stat: LibStat) => void): void;
  getACL(path: string, cb: Cb<LibAcl[]>): void;
  exists(path: string, cb: (err: LibException | null, stat: LibStat | null) => void): void;
  getChildren(path: string, cb: Cb<string[]>): void;
  transaction(): LibTransaction;
}

export interface LibModule {
  createClient(connect: string, options: { sessionTimeout: number; spinDelay: number; retries: number; sessionId?: Buffer; sessionPassword?: Buffer }): LibClient;
  ACL: new (perms: number, id: unknown) => LibAcl;
  Id: new (scheme: string, id: string) => LibId;
  State: Record<string, LibState>;
  Exception: { create(code: number): LibException };
}

export interface LibJute {
  OP_CODES: Record<string, number>;
  XID_NOTIFICATION: number;
}

export const lib = require('node-zookeeper-client') as LibModule;
export const jute = require('node-zookeeper-client/lib/jute') as LibJute;
