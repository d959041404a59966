/** Self-signed TLS certificates for tests that serve HTTPS or WSS, made with the openssl CLI. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export interface SelfSignedCertificate {
  certFile: string;
  keyFile: string;
  /** openssl's exit status and its error output, for the caller's assertion (null: openssl did not run). */
  status: number | null;
  stderr: string;
}

/**
 * A certificate for `name` alone, valid for one day, signed by its own key: the name is its
 * subjectAltName, as an IP address or else as a DNS name. Written to `dir` as cert.pem and key.pem.
 */
export function selfSignedCertificate(dir: string, name = '127.0.0.1'): SelfSignedCertificate {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const san = /^[\d.]+$/.test(name) || name.includes(':') ? `IP:${name}` : `DNS:${name}`;
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', `/CN=${name}`, '-addext', `subjectAltName=${san}`], { encoding: 'utf8' });
  return { certFile, keyFile, status: r.status, stderr: r.stderr || String(r.error ?? '') };
}
