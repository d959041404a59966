/**
 * Which engine socket the probe talks to when none is given: Docker's, else
 * the first Podman socket that exists (rootful, then the user's), else
 * Docker's anyway, so that the error in the report names the usual path.
 */
import { statSync } from 'node:fs';

export const DOCKER_SOCKET = '/var/run/docker.sock';
export const PODMAN_SOCKETS: readonly string[] = ['/run/podman/podman.sock', '/var/run/podman/podman.sock'];

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

export interface EngineSocketChoice {
  path: string;
  /** Why this path: 'flag', 'docker', 'podman' or 'default (none found)'. */
  source: 'flag' | 'docker' | 'podman' | 'none-found';
}

export function resolveEngineSocket(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env, exists: (p: string) => boolean = isSocket): EngineSocketChoice {
  if (explicit) return { path: explicit, source: 'flag' };
  if (exists(DOCKER_SOCKET)) return { path: DOCKER_SOCKET, source: 'docker' };
  const candidates = [...PODMAN_SOCKETS];
  if (env.XDG_RUNTIME_DIR) candidates.push(`${env.XDG_RUNTIME_DIR}/podman/podman.sock`);
  for (const p of candidates) if (exists(p)) return { path: p, source: 'podman' };
  return { path: DOCKER_SOCKET, source: 'none-found' };
}
