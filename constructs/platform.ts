import { App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import type { EnvironmentValues } from './environments';
import { Marathon } from './marathon';
import { MesosAgent } from './mesos-agent';
import { MesosMaster } from './mesos-master';
import { PlatformNamespace } from './namespaces';
import { ZooKeeper } from './zookeeper';

/**
 * The whole platform for one environment. Each part is its own Chart, so `dist/<env>/` holds
 * one file per part (namespaces, zookeeper, mesos-master, ...) that a reviewer can read alone.
 */
export class Platform extends Construct {
  public readonly zookeeper: ZooKeeper;
  public readonly mesosMaster: MesosMaster;
  public readonly mesosAgent: MesosAgent;
  public readonly marathon: Marathon;

  constructor(app: App, env: EnvironmentValues) {
    super(app, `platform-${env.name}`);
    const chart = (id: string) => new Chart(app, id, { disableResourceNameHashes: true });

    const namespaces = chart('namespaces');
    new PlatformNamespace(namespaces, 'orchestration', { env, name: env.namespace, podSecurity: 'restricted' });
    new PlatformNamespace(namespaces, 'hosts', {
      env,
      name: env.hostNamespace,
      podSecurity: 'privileged',
      exceptionReason: 'Mesos agents run privileged in the host network and PID namespaces: they create cgroups and mounts for tasks and drive the node\'s Docker daemon.',
    });

    this.zookeeper = new ZooKeeper(chart('zookeeper'), 'zookeeper', {
      env, values: env.zookeeper, image: env.images.zookeeper,
    });
    this.mesosMaster = new MesosMaster(chart('mesos-master'), 'mesos-master', {
      env, values: env.mesosMaster, auth: env.mesosAuth, image: env.images.mesosMaster,
      exporterImage: env.images.mesosExporter, zookeeper: this.zookeeper,
    });
    this.mesosAgent = new MesosAgent(chart('mesos-agent'), 'mesos-agent', {
      env, values: env.mesosAgent, auth: env.mesosAuth, image: env.images.mesosAgent,
      exporterImage: env.images.mesosExporter, masterZkUrl: this.mesosMaster.zkUrl,
    });
    this.marathon = new Marathon(chart('marathon'), 'marathon', {
      env, values: env.marathon, auth: env.mesosAuth, image: env.images.marathon,
      zookeeper: this.zookeeper, masterZkUrl: this.mesosMaster.zkUrl,
    });
  }
}
