/**
 * Which `latest` keys of report nodes the views read, in one place.
 *
 * The probe's host and process collectors are written (their keys are known);
 * its containers and Kubernetes collectors are not yet, so each fact lists the
 * keys it may come under, first found wins. When those collectors land, trim
 * these lists to what they emit; nothing else in the app names a key.
 */
import type { LatestValue, ReportNode } from '../../report';

export const KEYS = Object.freeze({
  name: ['name', 'container_name', 'pod_name', 'service_name', 'controller_name', 'hostname'],
  hostname: ['hostname'],
  image: ['image', 'image_name'],
  imageTag: ['image_tag'],
  state: ['state', 'container_state', 'status', 'phase'],
  namespace: ['namespace', 'kubernetes_namespace', 'k8s_namespace', 'label.io.kubernetes.pod.namespace'],
  kind: ['kind', 'controller_kind'],
  cmdline: ['cmdline', 'command'],
  pid: ['pid'],
  uid: ['uid'],
  os: ['os'],
  k8sContainerName: ['label.io.kubernetes.container.name', 'kubernetes_container_name'],
});

/** The first of `keys` present on the node, as a value. */
export function value(node: ReportNode, keys: readonly string[]): LatestValue | undefined {
  const latest = node.latest;
  for (const k of keys) {
    const l = Object.prototype.hasOwnProperty.call(latest, k) ? latest[k] : undefined;
    if (l !== undefined) return l.v;
  }
  return undefined;
}

/** The first of `keys` present on the node, as a string ('' when absent). */
export function text(node: ReportNode, keys: readonly string[]): string {
  const v = value(node, keys);
  return v === undefined ? '' : String(v);
}

/** Container states that count as running for the running/stopped filter. */
export const RUNNING_STATES: ReadonlySet<string> = new Set(['running', 'paused', 'restarting', 'Running', 'Pending']);

/** Kubernetes namespaces whose workloads are the platform's, not applications. */
export const SYSTEM_NAMESPACES: ReadonlySet<string> = new Set(['kube-system', 'kube-public', 'kube-node-lease']);
