/**
 * TLS between the platform's services, from cert-manager resources (CRDs of cert-manager
 * v1.15.3 in crds/, typed by `cdk8s import` into imports/cert-manager.io.ts).
 *
 * The chain of one environment:
 *
 *   ClusterIssuer orchestrator-<env>-selfsigned        (selfSigned: signs only the root below)
 *     → Certificate orchestrator-<env>-ca               (isCA, in cert-manager's namespace, where a
 *                                                       ClusterIssuer reads its CA Secret from)
 *       → ClusterIssuer orchestrator-<env>-ca           (ca: issues every service certificate)
 *         → Certificate <component>-tls per service     (in the component's namespace)
 *         → Certificate platform-ca per namespace       (its Secret brings `ca.crt` to clients)
 *
 * Every Secret the CA issuer writes carries `ca.crt` (the CA certificate), so a component
 * verifies its peers with the `ca.crt` of its own certificate's Secret.
 */
import { Construct } from 'constructs';
import {
  Certificate, type CertificateSpec, CertificateSpecAdditionalOutputFormatsType, CertificateSpecPrivateKeyAlgorithm,
  CertificateSpecPrivateKeyEncoding, CertificateSpecPrivateKeyRotationPolicy, CertificateSpecUsages, ClusterIssuer,
} from '../../imports/cert-manager.io';
import type { EnvironmentValues } from '../environments';
import { componentLabels } from '../lib/labels';

/** Lifetimes: service certificates renew a third of the way before they expire. */
const SERVICE_DURATION = '2160h'; // 90 days
const SERVICE_RENEW_BEFORE = '720h'; // 30 days
const CA_DURATION = '87600h'; // 10 years
const CA_RENEW_BEFORE = '8760h'; // 1 year

/** Created before the workloads that mount their Secrets, and tolerated while cert-manager's CRDs are new. */
const SKIP_DRY_RUN = { 'argocd.argoproj.io/sync-options': 'SkipDryRunOnMissingResource=true' };

export function clusterIssuerNames(env: EnvironmentValues): { selfSigned: string; ca: string; caCertificate: string } {
  return { selfSigned: `orchestrator-${env.name}-selfsigned`, ca: `orchestrator-${env.name}-ca`, caCertificate: `orchestrator-${env.name}-ca` };
}

/** The environment's own CA: a self-signed root kept by cert-manager and the ClusterIssuer it backs. */
export class PlatformCa extends Construct {
  public readonly issuerName: string;

  constructor(scope: Construct, id: string, props: { env: EnvironmentValues }) {
    super(scope, id);
    const env = props.env;
    const names = clusterIssuerNames(env);
    const labels = componentLabels('platform-ca', env);
    this.issuerName = names.ca;
    new ClusterIssuer(this, 'selfsigned', {
      metadata: { name: names.selfSigned, labels, annotations: SKIP_DRY_RUN },
      spec: { selfSigned: {} },
    });
    new Certificate(this, 'root', {
      metadata: { name: names.caCertificate, namespace: env.gitops.controllers.certManager.namespace, labels, annotations: SKIP_DRY_RUN },
      spec: {
        isCa: true,
        commonName: `orchestrator ${env.name} platform CA`,
        secretName: names.caCertificate,
        duration: CA_DURATION,
        renewBefore: CA_RENEW_BEFORE,
        privateKey: { algorithm: CertificateSpecPrivateKeyAlgorithm.RSA, size: 3072, encoding: CertificateSpecPrivateKeyEncoding.PKCS8, rotationPolicy: CertificateSpecPrivateKeyRotationPolicy.ALWAYS },
        issuerRef: { kind: 'ClusterIssuer', group: 'cert-manager.io', name: names.selfSigned },
      },
    });
    new ClusterIssuer(this, 'ca', {
      metadata: { name: names.ca, labels, annotations: SKIP_DRY_RUN },
      spec: { ca: { secretName: names.caCertificate } },
    });
  }
}

export interface ServiceCertificateProps {
  readonly env: EnvironmentValues;
  /** Component the certificate belongs to (labels); the Secret is `secretName`. */
  readonly component: string;
  readonly namespace: string;
  readonly secretName: string;
  /** Names clients connect to; the first is the common name. */
  readonly dnsNames: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** `server` serves TLS, `client` only presents itself, `peer` both (quorum members, libprocess). */
  readonly role: 'server' | 'client' | 'peer';
  /**
   * Also write `tls-combined.pem` (key and chain in one PEM file) into the Secret: ZooKeeper's
   * PEM key store reads one file (cert-manager's AdditionalCertificateOutputFormats, beta and
   * on by default in v1.15).
   */
  readonly combinedPem?: boolean;
  /**
   * Also write `keystore.jks` and `truststore.jks` (for Java servers such as Marathon), encrypted
   * with the password in this Secret key (an operator input, created out of band).
   */
  readonly jksPassword?: { readonly secretName: string; readonly key: string };
}

const USAGES: Record<ServiceCertificateProps['role'], CertificateSpecUsages[]> = {
  server: [CertificateSpecUsages.DIGITAL_SIGNATURE, CertificateSpecUsages.KEY_ENCIPHERMENT, CertificateSpecUsages.SERVER_AUTH],
  client: [CertificateSpecUsages.DIGITAL_SIGNATURE, CertificateSpecUsages.KEY_ENCIPHERMENT, CertificateSpecUsages.CLIENT_AUTH],
  peer: [CertificateSpecUsages.DIGITAL_SIGNATURE, CertificateSpecUsages.KEY_ENCIPHERMENT, CertificateSpecUsages.SERVER_AUTH, CertificateSpecUsages.CLIENT_AUTH],
};

/** One service's certificate from the environment's CA. */
export class ServiceCertificate extends Construct {
  public readonly secretName: string;

  constructor(scope: Construct, id: string, props: ServiceCertificateProps) {
    super(scope, id);
    if (props.dnsNames.length === 0) throw new Error(`certificate ${props.secretName}: name at least one DNS name`);
    for (const n of props.dnsNames) {
      if (!/^[a-z0-9*]([a-z0-9.-]*[a-z0-9])?$/.test(n)) throw new Error(`certificate ${props.secretName}: "${n}" is not a DNS name`);
    }
    this.secretName = props.secretName;
    const spec: CertificateSpec = {
      secretName: props.secretName,
      commonName: props.dnsNames[0],
      dnsNames: [...props.dnsNames],
      ipAddresses: props.ipAddresses?.length ? [...props.ipAddresses] : undefined,
      duration: SERVICE_DURATION,
      renewBefore: SERVICE_RENEW_BEFORE,
      usages: USAGES[props.role],
      // RSA and PKCS#8 for the oldest reader: Mesos 1.7's OpenSSL, Marathon's JVM and
      // ZooKeeper's PEM loader (which reads "BEGIN PRIVATE KEY" only).
      privateKey: { algorithm: CertificateSpecPrivateKeyAlgorithm.RSA, size: 2048, encoding: CertificateSpecPrivateKeyEncoding.PKCS8, rotationPolicy: CertificateSpecPrivateKeyRotationPolicy.ALWAYS },
      additionalOutputFormats: props.combinedPem ? [{ type: CertificateSpecAdditionalOutputFormatsType.COMBINED_PEM }] : undefined,
      keystores: props.jksPassword ? { jks: { create: true, passwordSecretRef: { name: props.jksPassword.secretName, key: props.jksPassword.key } } } : undefined,
      issuerRef: { kind: 'ClusterIssuer', group: 'cert-manager.io', name: clusterIssuerNames(props.env).ca },
    };
    new Certificate(this, 'certificate', {
      metadata: { name: props.secretName, namespace: props.namespace, labels: componentLabels(props.component, props.env), annotations: SKIP_DRY_RUN },
      spec,
    });
  }
}

/**
 * `platform-ca` in one namespace: cert-manager has no "CA bundle only" resource (trust-manager
 * would, and is not installed), so a client certificate of the namespace carries `ca.crt` to
 * the pods that verify the platform's servers (the probe, Prometheus, the Ingress controller).
 */
export function namespaceTrust(scope: Construct, env: EnvironmentValues, namespace: string): ServiceCertificate {
  return new ServiceCertificate(scope, `trust-${namespace}`, {
    env, component: 'platform-ca', namespace, secretName: env.tls.caSecret,
    dnsNames: [`platform-ca.${namespace}.svc`], role: 'client',
  });
}
