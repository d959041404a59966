/**
 * Building blocks of pod specs shared by every workload: resources, security contexts,
 * probes and anti-affinity. Each returns plain k8s types so constructs stay declarative.
 */
import { k8s } from 'cdk8s-plus-27';
import type { ContainerResources, ImageRef } from '../environments';
import { parseQuantity } from './quantity';

/** The project's image's entrypoint (the Dockerfile's ENTRYPOINT; test/constructs/runtime-commands.test.ts checks they agree): Node and the orchestrator CLI. */
export const ORCHESTRATOR_CLI = ['node', '/app/build/runtime/cli.js'] as const;

export function imageOf(ref: ImageRef): string {
  if (!ref.tag || ref.tag === 'latest') {
    throw new Error(`image ${ref.repository} must be pinned by an exact tag, not "${ref.tag || '(none)'}"`);
  }
  return `${ref.repository}:${ref.tag}`;
}

/** Requests and limits; a limit below its request is a values mistake, caught at synth time. */
export function resourcesOf(r: ContainerResources, owner: string): k8s.ResourceRequirements {
  if (parseQuantity(r.cpuLimit) < parseQuantity(r.cpuRequest)) {
    throw new Error(`${owner}: cpuLimit ${r.cpuLimit} is below cpuRequest ${r.cpuRequest}; raise the limit or lower the request`);
  }
  if (parseQuantity(r.memoryLimit) < parseQuantity(r.memoryRequest)) {
    throw new Error(`${owner}: memoryLimit ${r.memoryLimit} is below memoryRequest ${r.memoryRequest}; raise the limit or lower the request`);
  }
  return {
    requests: { cpu: k8s.Quantity.fromString(r.cpuRequest), memory: k8s.Quantity.fromString(r.memoryRequest) },
    limits: { cpu: k8s.Quantity.fromString(r.cpuLimit), memory: k8s.Quantity.fromString(r.memoryLimit) },
  };
}

/** Pod-level context for a non-root workload (Pod Security "restricted"). */
export function restrictedPodSecurity(uid: number): k8s.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Container-level context for a non-root container: nothing to escalate, nothing to write outside volumes. */
export function restrictedContainerSecurity(): k8s.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** `opts.scheme` defaults to HTTP; HTTPS for a server with TLS (the kubelet does not verify its certificate). */
export function httpProbe(path: string, port: number, opts: { initialDelaySeconds: number; periodSeconds: number; failureThreshold: number; scheme?: 'HTTP' | 'HTTPS' }): k8s.Probe {
  return {
    httpGet: { path, port: k8s.IntOrString.fromNumber(port), scheme: opts.scheme ?? 'HTTP' },
    initialDelaySeconds: opts.initialDelaySeconds,
    periodSeconds: opts.periodSeconds,
    timeoutSeconds: 5,
    failureThreshold: opts.failureThreshold,
  };
}

export function tcpProbe(port: number, opts: { initialDelaySeconds: number; periodSeconds: number; failureThreshold: number }): k8s.Probe {
  return {
    tcpSocket: { port: k8s.IntOrString.fromNumber(port) },
    initialDelaySeconds: opts.initialDelaySeconds,
    periodSeconds: opts.periodSeconds,
    timeoutSeconds: 5,
    failureThreshold: opts.failureThreshold,
  };
}

/** Never two replicas of one quorum member set on one node: losing a node must cost at most one vote. */
export function spreadAcrossNodes(selector: Record<string, string>): k8s.Affinity {
  return {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { labelSelector: { matchLabels: selector }, topologyKey: 'kubernetes.io/hostname' },
      ],
    },
  };
}

/** Majority of an ensemble of n voters. */
export function quorumOf(n: number): number {
  return Math.floor(n / 2) + 1;
}

export function requireOddMembers(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1 || n % 2 === 0) {
    throw new Error(`${what} must be an odd number of members (1, 3, 5, ...), got ${n}: an even count adds a member without tolerating one more failure`);
  }
}

/** Tolerates every taint: a per-node daemon must run on every node, tainted or not. */
export function tolerateEverything(): k8s.Toleration[] {
  return [{ operator: 'Exists' }];
}

/** A small writable scratch volume for a container with a read-only root filesystem. */
export function scratchVolume(name: string, size: string): k8s.Volume {
  return { name, emptyDir: { sizeLimit: k8s.Quantity.fromString(size) } };
}
