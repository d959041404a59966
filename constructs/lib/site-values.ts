/**
 * The values of an environment that describe the site rather than the platform: public names,
 * the cluster's API server as Argo CD knows it, address ranges, registries and repositories.
 * They are the operator's to set (docs/operations.md, "Operator inputs"); synth refuses a
 * missing or malformed one with a message naming the field and what it must hold, instead of
 * writing an object that fails at apply time or, worse, a NetworkPolicy for the wrong range.
 */
import { isIP } from 'node:net';
import type { EnvironmentValues } from '../environments';

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;
/** registry[:port]/path of an image, without tag. */
const IMAGE_REPOSITORY = /^[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)+$/;

export function isCidr(value: string): boolean {
  const [address, bits, ...rest] = value.split('/');
  if (rest.length || !address || bits === undefined || !/^[0-9]{1,3}$/.test(bits)) return false;
  const family = isIP(address);
  return family !== 0 && Number(bits) <= (family === 4 ? 32 : 128);
}

export function checkSiteValues(env: EnvironmentValues): void {
  const where = (field: string) => `environments.ts ${env.name}.${field}`;
  const fail = (field: string, value: unknown, want: string) => {
    throw new Error(`${where(field)} is ${JSON.stringify(value)}: set ${want}`);
  };
  if (!DNS_NAME.test(env.domain)) fail('domain', env.domain, 'the DNS domain under which this environment\'s public endpoints are served');
  for (const [field, host] of [['app.host', env.app.host], ['grafana.host', env.grafana.host]] as const) {
    if (!DNS_NAME.test(host) || !host.endsWith(`.${env.domain}`)) fail(field, host, `a DNS name under ${env.domain} (the public name its Ingress and certificate carry)`);
  }
  let server: URL | undefined;
  try {
    server = new URL(env.gitops.destinationServer);
  } catch {
    server = undefined;
  }
  if (!server || server.protocol !== 'https:' || server.pathname !== '/' && server.pathname !== '') {
    fail('gitops.destinationServer', env.gitops.destinationServer, 'the https:// URL of this environment\'s Kubernetes API server as registered in Argo CD (argocd cluster add)');
  }
  for (const [field, list] of [['network.nodeCidrs', env.network.nodeCidrs], ['network.apiServerCidrs', env.network.apiServerCidrs]] as const) {
    if (list.length === 0) fail(field, list, 'at least one address range (CIDR) of the cluster');
    for (const c of list) if (!isCidr(c)) fail(field, c, 'address ranges in CIDR notation, e.g. 10.0.0.0/16');
  }
  for (const m of env.zkSync.migrations) {
    for (const c of m.externalCidrs) if (!isCidr(c)) fail(`zkSync.migrations "${m.name}".externalCidrs`, c, 'the address ranges of the external ensemble in CIDR notation');
  }
  if (!IMAGE_REPOSITORY.test(env.images.orchestrator.repository)) {
    fail('images.orchestrator.repository', env.images.orchestrator.repository, 'registry/path of this project\'s image, without tag (e.g. ghcr.io/<owner>/orchestrator)');
  }
}

/** The repository Argo CD reads dist/ from: an https git URL. */
export function checkGitRepository(url: string): void {
  if (!/^https:\/\/[a-z0-9.-]+(:[0-9]+)?\/[^\s]+\.git$/.test(url)) {
    throw new Error(`environments.ts GIT_REPOSITORY is ${JSON.stringify(url)}: set the https URL (ending in .git) of the git repository Argo CD reads dist/ from`);
  }
}
