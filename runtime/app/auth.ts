/**
 * Bearer tokens with roles. There is no default credential: the app refuses to
 * start without at least one token.
 *
 * Token file format, one token per line (blank lines and `#` comments ignored):
 *
 *     <name>:<role>:<token>
 *
 * `name` is who the token stands for (it goes into logs and the audit log);
 * `role` is `probe` (send reports, hold a control channel), `viewer` (read
 * views, search, WebSocket feed) or `admin` (a viewer that may also send
 * controls). `/metrics` and `/readyz` take a token of any role. The environment variable `ORCHESTRATOR_APP_TOKENS` holds the
 * same lines separated by newlines or commas, for when a file is awkward.
 *
 * Tokens are kept only as SHA-256 digests and looked up by digest, so the
 * comparison time does not depend on how much of a guess was right.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

export const ROLES = ['probe', 'viewer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who made a request. */
export interface Principal {
  name: string;
  role: Role;
}

export const MIN_TOKEN_LENGTH = 16;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
const TOKEN = /^[\x21-\x7e]+$/;

export class TokenConfigError extends Error {
  readonly code = 'E_TOKENS';
  constructor(message: string) {
    super(message);
    this.name = 'TokenConfigError';
  }
}

/**
 * What a route needs: a role, or `any` (a token of any role: the operational
 * endpoints /metrics and /readyz, which scrapers and probes reach with whatever
 * token they were given; they reveal counts and timings, no topology).
 */
export type Access = Role | 'any';

/** What each role may do. `admin` includes `viewer`; `probe` is separate (a probe reads nothing but `any` routes). */
export function allows(role: Role, needed: Access): boolean {
  return needed === 'any' || role === needed || (needed === 'viewer' && role === 'admin');
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class TokenStore {
  private readonly byDigest = new Map<string, Principal>();

  /** Parses token lines; `source` names where they came from in error messages. */
  static parse(text: string, source: string): TokenStore {
    const store = new TokenStore();
    const names = new Set<string>();
    const lines = text.split(/\r?\n|,/);
    lines.forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const where = `${source} entry ${i + 1}`;
      const first = line.indexOf(':');
      const second = first < 0 ? -1 : line.indexOf(':', first + 1);
      if (second < 0) throw new TokenConfigError(`${where}: expected <name>:<role>:<token>`);
      const name = line.slice(0, first);
      const role = line.slice(first + 1, second);
      const token = line.slice(second + 1);
      if (!NAME.test(name)) throw new TokenConfigError(`${where}: name must match ${NAME.source}`);
      if (!(ROLES as readonly string[]).includes(role)) throw new TokenConfigError(`${where}: role must be one of ${ROLES.join(', ')}`);
      if (token.length < MIN_TOKEN_LENGTH || !TOKEN.test(token)) {
        throw new TokenConfigError(`${where}: token must be at least ${MIN_TOKEN_LENGTH} printable characters without spaces`);
      }
      if (names.has(name)) throw new TokenConfigError(`${where}: name ${name} appears twice`);
      const d = digest(token);
      if (store.byDigest.has(d)) throw new TokenConfigError(`${where}: token already given to another name`);
      names.add(name);
      store.byDigest.set(d, { name, role: role as Role });
    });
    return store;
  }

  /**
   * Tokens from a file and/or the environment. Throws a TokenConfigError when
   * neither yields a token, or when the file is readable by others.
   */
  static load(opts: { file?: string; env?: string }): TokenStore {
    const parts: TokenStore[] = [];
    if (opts.file !== undefined) {
      let text: string;
      try {
        // Secrets mounted from Kubernetes are 0644 by default on some setups; refuse only world-writable.
        if ((statSync(opts.file).mode & 0o002) !== 0) throw new TokenConfigError(`${opts.file} is world-writable; fix its mode`);
        text = readFileSync(opts.file, 'utf8');
      } catch (err) {
        if (err instanceof TokenConfigError) throw err;
        throw new TokenConfigError(`cannot read tokens file ${opts.file}: ${(err as Error).message}`);
      }
      parts.push(TokenStore.parse(text, opts.file));
    }
    if (opts.env !== undefined && opts.env.trim() !== '') parts.push(TokenStore.parse(opts.env, 'ORCHESTRATOR_APP_TOKENS'));
    const store = new TokenStore();
    for (const p of parts) {
      for (const [d, principal] of p.byDigest) {
        if (store.byDigest.has(d)) throw new TokenConfigError(`the same token is given twice (as ${principal.name})`);
        store.byDigest.set(d, principal);
      }
    }
    if (store.size === 0) throw new TokenConfigError('no tokens configured: give --tokens-file or ORCHESTRATOR_APP_TOKENS (there are no default credentials)');
    return store;
  }

  get size(): number {
    return this.byDigest.size;
  }

  /** The store as plain data (digests and principals, no token), to rebuild it on another thread with `fromEntries`. */
  entries(): Array<[digest: string, principal: Principal]> {
    return [...this.byDigest].map(([d, p]) => [d, { ...p }]);
  }

  /** A store from `entries()` of another. */
  static fromEntries(entries: ReadonlyArray<readonly [string, Principal]>): TokenStore {
    const store = new TokenStore();
    for (const [d, p] of entries) store.byDigest.set(d, { name: p.name, role: p.role });
    return store;
  }

  /** The principal a token stands for, or null. */
  lookup(token: string): Principal | null {
    if (token.length < MIN_TOKEN_LENGTH || token.length > 4096) return null;
    return this.byDigest.get(digest(token)) ?? null;
  }

  /** The principal of an `Authorization: Bearer <token>` header value, or null. */
  fromHeader(header: string): Principal | null {
    const m = /^Bearer +(\S+)\s*$/i.exec(header);
    return m ? this.lookup(m[1]!) : null;
  }
}

/**
 * Browsers cannot set headers on a WebSocket; they may offer the token as a
 * subprotocol `bearer.<token>` instead. Returns the token and the protocol to
 * echo back (the handshake fails unless the server selects one it was offered).
 */
export function tokenFromSubprotocols(header: string): { token: string; protocol: string } | null {
  for (const p of header.split(',')) {
    const proto = p.trim();
    if (proto.startsWith('bearer.')) return { token: proto.slice('bearer.'.length), protocol: proto };
  }
  return null;
}
