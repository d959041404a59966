import type { k8s } from 'cdk8s-plus-27';
import type { ContainerResources, ImageRef } from '../environments';
import { imageOf, resourcesOf, restrictedContainerSecurity, tcpProbe } from './pod';

export const MESOS_EXPORTER_PORT = 9110;

/**
 * The mesos-exporter sidecar that turns a master's or an agent's `/metrics/snapshot` into
 * Prometheus metrics on {@link MESOS_EXPORTER_PORT}. It runs as nobody: it only makes HTTP calls.
 */
export function mesosExporterContainer(role: 'master' | 'slave', mesosPort: number, image: ImageRef, resources: ContainerResources): k8s.Container {
  return {
    name: 'exporter',
    image: imageOf(image),
    args: [`-${role}`, `http://127.0.0.1:${mesosPort}`, '-addr', `:${MESOS_EXPORTER_PORT}`],
    ports: [{ name: 'metrics', containerPort: MESOS_EXPORTER_PORT }],
    resources: resourcesOf(resources, `mesos ${role} exporter`),
    securityContext: { ...restrictedContainerSecurity(), runAsUser: 65534, runAsGroup: 65534 },
    readinessProbe: tcpProbe(MESOS_EXPORTER_PORT, { initialDelaySeconds: 5, periodSeconds: 10, failureThreshold: 3 }),
    livenessProbe: tcpProbe(MESOS_EXPORTER_PORT, { initialDelaySeconds: 15, periodSeconds: 20, failureThreshold: 3 }),
  };
}
