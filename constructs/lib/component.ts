/**
 * What every component of the platform shares: its identity (name, namespace, labels,
 * selector), its own ServiceAccount, the identity part of its pod spec, and, for quorum-based
 * components, the headless Service and the disruption budget that protects the quorum.
 */
import { k8s } from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import type { EnvironmentValues } from '../environments';
import { componentLabels, selectorLabels } from './labels';
import { quorumOf, restrictedPodSecurity, spreadAcrossNodes } from './pod';

export class ComponentIdentity {
  public readonly labels: Record<string, string>;
  public readonly selector: Record<string, string>;

  /** `version` becomes `app.kubernetes.io/version` (the image tag of the main container). */
  constructor(public readonly name: string, public readonly namespace: string, env: EnvironmentValues, version: string) {
    this.labels = componentLabels(name, env, version);
    this.selector = selectorLabels(name);
  }

  /** Metadata of one of the component's objects. */
  public meta(objectName: string = this.name): k8s.ObjectMeta {
    return { name: objectName, namespace: this.namespace, labels: this.labels };
  }

  /** The component's own ServiceAccount; no API token is mounted unless a component asks for one. */
  public serviceAccount(scope: Construct): k8s.KubeServiceAccount {
    return new k8s.KubeServiceAccount(scope, 'service-account', { metadata: this.meta(), automountServiceAccountToken: false });
  }

  /**
   * The identity part of a non-root pod spec: its ServiceAccount, no token, the restricted
   * security context, and, with more than one replica, one replica per node.
   */
  public restrictedPod(uid: number, replicas: number): Pick<k8s.PodSpec, 'serviceAccountName' | 'automountServiceAccountToken' | 'securityContext' | 'affinity'> {
    return {
      serviceAccountName: this.name,
      automountServiceAccountToken: false,
      securityContext: restrictedPodSecurity(uid),
      affinity: replicas > 1 ? spreadAcrossNodes(this.selector) : undefined,
    };
  }

  /**
   * Headless Service giving each member of a StatefulSet a stable DNS name. Members must
   * resolve each other before they are ready, or a quorum never forms.
   */
  public headlessService(scope: Construct, serviceName: string, ports: k8s.ServicePort[]): k8s.KubeService {
    return new k8s.KubeService(scope, 'headless', {
      metadata: this.meta(serviceName),
      spec: { clusterIp: 'None', publishNotReadyAddresses: true, selector: this.selector, ports },
    });
  }

  /**
   * Lets voluntary disruptions take members down only while a majority stays up; none for a
   * single member (a budget of 1 of 1 would block every node drain).
   */
  public quorumBudget(scope: Construct, members: number): k8s.KubePodDisruptionBudget | undefined {
    if (members <= 1) return undefined;
    return new k8s.KubePodDisruptionBudget(scope, 'pdb', {
      metadata: this.meta(),
      spec: { minAvailable: k8s.IntOrString.fromNumber(quorumOf(members)), selector: { matchLabels: this.selector } },
    });
  }
}
