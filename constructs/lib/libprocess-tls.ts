/**
 * SSL of libprocess, the transport of Mesos masters, agents and schedulers (Marathon's driver).
 * Environment variable names from the Mesos SSL documentation ("SSL in Mesos", the
 * LIBPROCESS_SSL_* names accepted since 1.0; checked against the 1.x docs for the 1.7 images).
 *
 * Every libprocess peer speaks TLS only (no downgrade to plain connections): the traffic is
 * encrypted. Peer certificates are NOT verified (LIBPROCESS_SSL_VERIFY_CERT=false): Mesos 1.7
 * checks a presented certificate against the peer's reverse-DNS name, and the agents' one
 * certificate cannot name every node (a static cert-manager Certificate has no per-node names;
 * a node-aware issuer is not built). Peers authenticate with SASL (CRAM-MD5, mesosAuth) where
 * the environment enables it. The CA file is set so that turning verification on is one value.
 * docs/operations.md ("TLS").
 */
import type { k8s } from 'cdk8s-plus-27';

/** Where a Mesos component's certificate Secret (tls.crt, tls.key, ca.crt) is mounted. */
export const LIBPROCESS_TLS_DIR = '/etc/mesos/tls';

export function libprocessSslEnv(dir: string = LIBPROCESS_TLS_DIR): k8s.EnvVar[] {
  return [
    { name: 'LIBPROCESS_SSL_ENABLED', value: 'true' },
    { name: 'LIBPROCESS_SSL_SUPPORT_DOWNGRADE', value: 'false' },
    { name: 'LIBPROCESS_SSL_CERT_FILE', value: `${dir}/tls.crt` },
    { name: 'LIBPROCESS_SSL_KEY_FILE', value: `${dir}/tls.key` },
    { name: 'LIBPROCESS_SSL_CA_FILE', value: `${dir}/ca.crt` },
    { name: 'LIBPROCESS_SSL_VERIFY_CERT', value: 'false' },
    { name: 'LIBPROCESS_SSL_REQUIRE_CERT', value: 'false' },
  ];
}

/** The certificate Secret as a volume with the three files libprocess reads. */
export function libprocessTlsVolume(secretName: string, name = 'tls'): k8s.Volume {
  return {
    name,
    secret: { secretName, defaultMode: 0o440, items: ['tls.crt', 'tls.key', 'ca.crt'].map((key) => ({ key, path: key })) },
  };
}

/** Only `ca.crt` of the Secret, world-readable (it is public): for sidecars that verify, such as the exporter. */
export function caOnlyVolume(secretName: string, name: string): k8s.Volume {
  return { name, secret: { secretName, defaultMode: 0o444, items: [{ key: 'ca.crt', path: 'ca.crt' }] } };
}
