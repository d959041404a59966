import { App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import type { EnvironmentValues } from './environments';
import { Marathon } from './marathon';
import { checkSiteValues } from './lib/site-values';
import { MesosAgent } from './mesos-agent';
import { MesosMaster } from './mesos-master';
import { MonitoringApp } from './monitoring-app';
import { MonitoringProbe } from './monitoring-probe';
import { PlatformNamespace } from './namespaces';
import { platformAlerts } from './observability/alerts';
import { platformDashboards } from './observability/dashboards';
import { GRAFANA_PORT, Grafana } from './observability/grafana';
import { PROMETHEUS_PORT, Prometheus } from './observability/prometheus';
import { platformFlows } from './security/flows';
import { applyHardening } from './security/hardening';
import { NetworkPolicies } from './security/network-policies';
import { Tenancy } from './security/tenancy';
import { PlatformCa, namespaceTrust } from './security/tls';
import { ZkSync } from './zk-sync';
import { ZooKeeper } from './zookeeper';

/**
 * Argo CD sync wave of each part: namespaces and their guards first, then ZooKeeper, the
 * masters (which elect through it), the agents (which register with them), Marathon (a
 * framework on them), and monitoring last.
 */
export const SYNC_WAVES = {
  namespaces: -2,
  security: -1,
  tls: -1,
  zookeeper: 0,
  'mesos-master': 1,
  'mesos-agent': 2,
  marathon: 3,
  observability: 4,
  // The app before its probes: an app reads every report form of the probes before it (a probe
  // of this build sends deltas as patches, which an older app refuses as an unknown field).
  'monitoring-app': 5,
  'monitoring-probe': 6,
  'zk-sync': 5,
} as const;
export type PartName = keyof typeof SYNC_WAVES;

/**
 * The whole platform for one environment. Each part is its own Chart, so `dist/<env>/` holds
 * one file per part (namespaces, zookeeper, mesos-master, ...) that a reviewer can read alone.
 */
export class Platform extends Construct {
  public readonly zookeeper: ZooKeeper;
  public readonly mesosMaster: MesosMaster;
  public readonly mesosAgent: MesosAgent;
  public readonly marathon: Marathon;
  public readonly probe: MonitoringProbe;
  public readonly app: MonitoringApp;
  public readonly zkSync: ZkSync;
  public readonly prometheus: Prometheus;
  public readonly grafana: Grafana;
  public readonly tenancy: Tenancy;

  constructor(app: App, env: EnvironmentValues) {
    super(app, `platform-${env.name}`);
    checkSiteValues(env);
    const charts: Array<[Chart, PartName]> = [];
    const chart = (id: PartName) => {
      const c = new Chart(app, id, { disableResourceNameHashes: true });
      charts.push([c, id]);
      return c;
    };

    const namespaces = chart('namespaces');
    new PlatformNamespace(namespaces, 'orchestration', { env, name: env.namespace, podSecurity: 'restricted' });
    new PlatformNamespace(namespaces, 'hosts', {
      env,
      name: env.hostNamespace,
      podSecurity: 'privileged',
      exceptionReason: 'Host-level daemons: Mesos agents run privileged in the host network and PID namespaces (they create cgroups and mounts for tasks and drive the node\'s Docker daemon); monitoring probes read the host\'s /proc, connections and engine socket as root with two capabilities.',
    });
    this.tenancy = new Tenancy(namespaces, 'tenants', { env, tenants: env.tenants });

    // The environment's CA and the `platform-ca` trust Secret of each namespace whose pods
    // verify the platform's servers; each service's own Certificate is in its part's file.
    const tls = chart('tls');
    new PlatformCa(tls, 'ca', { env });
    for (const ns of [env.namespace, env.hostNamespace]) namespaceTrust(tls, env, ns);

    this.zookeeper = new ZooKeeper(chart('zookeeper'), 'zookeeper', {
      env, values: env.zookeeper, image: env.images.zookeeper,
    });
    this.mesosMaster = new MesosMaster(chart('mesos-master'), 'mesos-master', {
      env, values: env.mesosMaster, auth: env.mesosAuth, image: env.images.mesosMaster,
      exporterImage: env.images.mesosExporter, zookeeper: this.zookeeper, tunnelImage: env.images.ghostunnel,
    });
    this.mesosAgent = new MesosAgent(chart('mesos-agent'), 'mesos-agent', {
      env, values: env.mesosAgent, auth: env.mesosAuth, image: env.images.mesosAgent,
      exporterImage: env.images.mesosExporter, masterZkUrl: this.mesosMaster.zkUrl,
      zookeeper: this.zookeeper, tunnelImage: env.images.ghostunnel,
    });
    this.marathon = new Marathon(chart('marathon'), 'marathon', {
      env, values: env.marathon, auth: env.mesosAuth, image: env.images.marathon,
      zookeeper: this.zookeeper, masterZkUrl: this.mesosMaster.zkUrl, tunnelImage: env.images.ghostunnel,
    });

    const observability = chart('observability');
    const appName = 'monitoring-app';
    this.prometheus = new Prometheus(observability, 'prometheus', {
      env, values: env.prometheus, image: env.images.prometheus, ruleGroups: platformAlerts(env), appService: appName,
      marathonService: this.marathon.serviceName,
    });
    this.grafana = new Grafana(observability, 'grafana', {
      env, values: env.grafana, image: env.images.grafana, prometheusUrl: this.prometheus.url, dashboards: platformDashboards(env),
    });
    this.app = new MonitoringApp(chart('monitoring-app'), 'monitoring-app', {
      env, values: env.app, image: env.images.orchestrator, prometheusUrl: this.prometheus.url, name: appName,
    });
    this.probe = new MonitoringProbe(chart('monitoring-probe'), 'monitoring-probe', {
      env, values: env.probe, image: env.images.orchestrator, appUrl: this.app.url,
    });
    // No file for an environment without migrations.
    this.zkSync = new ZkSync(env.zkSync.migrations.length ? chart('zk-sync') : this, 'zk-sync', {
      env, values: env.zkSync, image: env.images.orchestrator, zookeeper: this.zookeeper, tunnelImage: env.images.ghostunnel,
    });

    new NetworkPolicies(chart('security'), 'network-policies', {
      env,
      namespaces: [env.namespace, env.hostNamespace, ...this.tenancy.namespaces],
      flows: platformFlows(env, {
        zookeeper: this.zookeeper.name,
        mesosMaster: this.mesosMaster.name,
        marathon: this.marathon.name,
        app: this.app.name,
        prometheus: this.prometheus.name,
        prometheusPort: PROMETHEUS_PORT,
        grafana: this.grafana.name,
        grafanaPort: GRAFANA_PORT,
        zkSync: env.zkSync.migrations.map((m, i) => ({ name: this.zkSync.components[i]!, externalCidrs: m.externalCidrs })),
      }),
    });

    for (const [c, part] of charts) applyHardening(c, SYNC_WAVES[part]);
  }
}
