/** Opening the two sessions a command needs, without leaking one when the other fails. */
import type { EngineOptions } from './engine';
import { ZkClient } from './zk/client';

/** Connects to both ensembles; when one fails, the other is closed before the error is thrown. */
export async function connectBoth(e: Pick<EngineOptions, 'source' | 'target'>): Promise<[ZkClient, ZkClient]> {
  const r = await Promise.allSettled([
    ZkClient.connect({ connect: e.source.connect, label: 'source', ...(e.source.auth ? { auth: e.source.auth } : {}) }),
    ZkClient.connect({ connect: e.target.connect, label: 'target', ...(e.target.auth ? { auth: e.target.auth } : {}) }),
  ]);
  const failed = r.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (failed) {
    await Promise.all(r.map((x) => (x.status === 'fulfilled' ? x.value.close() : undefined)));
    throw failed.reason;
  }
  return [(r[0] as PromiseFulfilledResult<ZkClient>).value, (r[1] as PromiseFulfilledResult<ZkClient>).value];
}

