import type { k8s } from 'cdk8s-plus-27';
import type { ContainerResources, ImageRef } from '../environments';
import { imageOf, resourcesOf, restrictedContainerSecurity, tcpProbe } from './pod';

export const MESOS_EXPORTER_PORT = 9110;

/** Where the exporter finds the CA of the Mesos process it scrapes over HTTPS. */
const EXPORTER_CA_DIR = '/etc/mesos-exporter/ca';

/**
 * The mesos-exporter sidecar that turns a master's or an agent's `/metrics/snapshot` into
 * Prometheus metrics on {@link MESOS_EXPORTER_PORT}. It runs as nobody: it only makes HTTPS
 * calls to 127.0.0.1 (the Mesos certificate names that address), verified against the platform
 * CA with `-trustedCerts` (mesos_exporter v1.1.2 flags). Its own listener is plain HTTP: the
 * exporter has no TLS server option (docs/operations.md lists the port as a plaintext exception).
 * `tlsVolume` is the pod's volume holding `ca.crt`.
 */
export function mesosExporterContainer(role: 'master' | 'slave', mesosPort: number, image: ImageRef, resources: ContainerResources, tlsVolume: string): k8s.Container {
  return {
    name: 'exporter',
    image: imageOf(image),
    args: [`-${role}`, `https://127.0.0.1:${mesosPort}`, '-trustedCerts', `${EXPORTER_CA_DIR}/ca.crt`, '-addr', `:${MESOS_EXPORTER_PORT}`],
    volumeMounts: [{ name: tlsVolume, mountPath: EXPORTER_CA_DIR, readOnly: true }],
    ports: [{ name: 'metrics', containerPort: MESOS_EXPORTER_PORT }],
    resources: resourcesOf(resources, `mesos ${role} exporter`),
    securityContext: { ...restrictedContainerSecurity(), runAsUser: 65534, runAsGroup: 65534 },
    readinessProbe: tcpProbe(MESOS_EXPORTER_PORT, { initialDelaySeconds: 5, periodSeconds: 10, failureThreshold: 3 }),
    livenessProbe: tcpProbe(MESOS_EXPORTER_PORT, { initialDelaySeconds: 15, periodSeconds: 20, failureThreshold: 3 }),
  };
}
