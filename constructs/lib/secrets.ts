/**
 * Where a workload's secret files come from. Secrets are never committed: by default each is a
 * Kubernetes Secret, created out of band, mounted read-only by name; with `vault.enabled` the
 * Vault Agent injector renders the same keys as files under /vault/secrets instead (the
 * integration point is the pod annotations below). Either way the program reads files at the
 * paths `path(key)` returns, so switching sources never changes its command line by hand.
 */
import { k8s } from 'cdk8s-plus-27';
import type { EnvironmentValues } from '../environments';

export interface SecretFilesProps {
  readonly env: EnvironmentValues;
  /** Volume name, unique in the pod; also the prefix of the Vault-rendered file names. */
  readonly volume: string;
  /** Secret name (and last segment of the Vault KV path). */
  readonly secretName: string;
  readonly keys: readonly string[];
  /** Where the Secret is mounted when Vault is off. */
  readonly mountPath: string;
}

/** The projected token the Vault Agent logs in with (the pods' own token stays unmounted). */
const VAULT_TOKEN_VOLUME = 'vault-token';

export class SecretFiles {
  public readonly viaVault: boolean;

  constructor(private readonly props: SecretFilesProps) {
    this.viaVault = props.env.vault.enabled;
    if (props.keys.length === 0) throw new Error(`secret ${props.secretName}: name at least one key`);
  }

  /** Path of the file holding `key`. */
  public path(key: string): string {
    if (!this.props.keys.includes(key)) throw new Error(`secret ${this.props.secretName} has no key "${key}" (keys: ${this.props.keys.join(', ')})`);
    return this.viaVault ? `/vault/secrets/${this.props.volume}-${key}` : `${this.props.mountPath}/${key}`;
  }

  public volumes(): k8s.Volume[] {
    if (this.viaVault) return [];
    return [{
      name: this.props.volume,
      secret: { secretName: this.props.secretName, defaultMode: 0o440, items: this.props.keys.map((key) => ({ key, path: key })) },
    }];
  }

  public mounts(): k8s.VolumeMount[] {
    return this.viaVault ? [] : [{ name: this.props.volume, mountPath: this.props.mountPath, readOnly: true }];
  }

  /** Vault Agent injector annotations for these keys (none when Vault is off). */
  public annotations(): Record<string, string> {
    if (!this.viaVault) return {};
    const secretPath = `${this.props.env.vault.pathPrefix}/${this.props.secretName}`;
    const out: Record<string, string> = {};
    for (const key of this.props.keys) {
      const file = `${this.props.volume}-${key}`;
      out[`vault.hashicorp.com/agent-inject-secret-${file}`] = secretPath;
      out[`vault.hashicorp.com/agent-inject-template-${file}`] = `{{- with secret "${secretPath}" -}}{{ index .Data.data "${key}" }}{{- end -}}`;
    }
    return out;
  }
}

/**
 * Pod-level pieces for a set of secret sources: volumes, and with Vault the injector's
 * annotations plus a projected, audience-bound token for the agent (so the pod's own
 * ServiceAccount token need not be mounted into the application's containers).
 */
export function secretSourcesOf(env: EnvironmentValues, sources: readonly SecretFiles[]): { volumes: k8s.Volume[]; annotations: Record<string, string> } {
  const volumes = sources.flatMap((s) => s.volumes());
  if (!env.vault.enabled || sources.length === 0) return { volumes, annotations: {} };
  return {
    volumes: [...volumes, {
      name: VAULT_TOKEN_VOLUME,
      projected: { sources: [{ serviceAccountToken: { audience: 'vault', expirationSeconds: 3600, path: 'token' } }] },
    }],
    annotations: {
      'vault.hashicorp.com/agent-inject': 'true',
      'vault.hashicorp.com/role': env.vault.role,
      'vault.hashicorp.com/agent-service-account-token-volume-name': VAULT_TOKEN_VOLUME,
      // The injected agent stays within a small budget, like every container of ours.
      'vault.hashicorp.com/agent-requests-cpu': '10m',
      'vault.hashicorp.com/agent-limits-cpu': '50m',
      'vault.hashicorp.com/agent-requests-mem': '32Mi',
      'vault.hashicorp.com/agent-limits-mem': '64Mi',
      ...Object.assign({}, ...sources.map((s) => s.annotations())),
    },
  };
}
