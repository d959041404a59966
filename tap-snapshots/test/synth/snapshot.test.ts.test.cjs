/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/synth/snapshot.test.ts > TAP > dist/dev > dev inventory 1`] = `
Array [
  Object {
    "object": "ServiceAccount orchestrator-dev/marathon",
  },
  Object {
    "object": "Service orchestrator-dev/marathon",
    "ports": Array [
      "http:8080",
    ],
  },
  Object {
    "containers": Array [
      "marathon docker.io/mesosphere/marathon:v1.11.24 cpu 100m/1 mem 768Mi/768Mi",
    ],
    "object": "Deployment orchestrator-dev/marathon",
    "replicas": 1,
  },
  Object {
    "object": "ServiceAccount orchestrator-dev-hosts/mesos-agent",
  },
  Object {
    "containers": Array [
      "mesos-agent docker.io/mesosphere/mesos-slave:1.7.0 cpu 100m/1 mem 256Mi/512Mi",
      "exporter docker.io/mesosphere/mesos-exporter:v1.1.2 cpu 10m/100m mem 32Mi/64Mi",
    ],
    "object": "DaemonSet orchestrator-dev-hosts/mesos-agent",
  },
  Object {
    "object": "ServiceAccount orchestrator-dev/mesos-master",
  },
  Object {
    "object": "Service orchestrator-dev/mesos-master-headless",
    "ports": Array [
      "http:5050",
    ],
  },
  Object {
    "object": "Service orchestrator-dev/mesos-master",
    "ports": Array [
      "http:5050",
      "metrics:9110",
    ],
  },
  Object {
    "claims": Array [
      "work 2Gi standard",
    ],
    "containers": Array [
      "mesos-master docker.io/mesosphere/mesos-master:1.7.0 cpu 100m/500m mem 512Mi/512Mi",
      "exporter docker.io/mesosphere/mesos-exporter:v1.1.2 cpu 10m/100m mem 32Mi/64Mi",
    ],
    "object": "StatefulSet orchestrator-dev/mesos-master",
    "replicas": 1,
  },
  Object {
    "object": "Namespace -/orchestrator-dev",
  },
  Object {
    "object": "Namespace -/orchestrator-dev-hosts",
  },
  Object {
    "object": "ServiceAccount orchestrator-dev/zookeeper",
  },
  Object {
    "object": "ConfigMap orchestrator-dev/zookeeper-config",
  },
  Object {
    "object": "Service orchestrator-dev/zookeeper-headless",
    "ports": Array [
      "client:2181",
      "quorum:2888",
      "election:3888",
    ],
  },
  Object {
    "object": "Service orchestrator-dev/zookeeper",
    "ports": Array [
      "client:2181",
      "metrics:7000",
    ],
  },
  Object {
    "claims": Array [
      "data 2Gi standard",
      "datalog 2Gi standard",
    ],
    "containers": Array [
      "myid docker.io/library/zookeeper:3.8.4 cpu 10m/100m mem 16Mi/32Mi",
      "zookeeper docker.io/library/zookeeper:3.8.4 cpu 100m/500m mem 512Mi/512Mi",
    ],
    "object": "StatefulSet orchestrator-dev/zookeeper",
    "replicas": 1,
  },
]
`

exports[`test/synth/snapshot.test.ts > TAP > dist/prod > prod inventory 1`] = `
Array [
  Object {
    "object": "ServiceAccount orchestrator-prod/marathon",
  },
  Object {
    "object": "Service orchestrator-prod/marathon",
    "ports": Array [
      "http:8080",
    ],
  },
  Object {
    "containers": Array [
      "marathon docker.io/mesosphere/marathon:v1.11.24 cpu 1/2 mem 4Gi/4Gi",
    ],
    "object": "Deployment orchestrator-prod/marathon",
    "replicas": 3,
  },
  Object {
    "budget": "maxUnavailable 1",
    "object": "PodDisruptionBudget orchestrator-prod/marathon",
  },
  Object {
    "object": "ServiceAccount orchestrator-prod-hosts/mesos-agent",
  },
  Object {
    "containers": Array [
      "mesos-agent docker.io/mesosphere/mesos-slave:1.7.0 cpu 500m/2 mem 1Gi/2Gi",
      "exporter docker.io/mesosphere/mesos-exporter:v1.1.2 cpu 20m/200m mem 64Mi/128Mi",
    ],
    "object": "DaemonSet orchestrator-prod-hosts/mesos-agent",
  },
  Object {
    "object": "ServiceAccount orchestrator-prod/mesos-master",
  },
  Object {
    "object": "Service orchestrator-prod/mesos-master-headless",
    "ports": Array [
      "http:5050",
    ],
  },
  Object {
    "object": "Service orchestrator-prod/mesos-master",
    "ports": Array [
      "http:5050",
      "metrics:9110",
    ],
  },
  Object {
    "claims": Array [
      "work 50Gi fast-ssd",
    ],
    "containers": Array [
      "mesos-master docker.io/mesosphere/mesos-master:1.7.0 cpu 1/4 mem 4Gi/4Gi",
      "exporter docker.io/mesosphere/mesos-exporter:v1.1.2 cpu 20m/200m mem 64Mi/128Mi",
    ],
    "object": "StatefulSet orchestrator-prod/mesos-master",
    "replicas": 3,
  },
  Object {
    "budget": "minAvailable 2",
    "object": "PodDisruptionBudget orchestrator-prod/mesos-master",
  },
  Object {
    "object": "Namespace -/orchestrator-prod",
  },
  Object {
    "object": "Namespace -/orchestrator-prod-hosts",
  },
  Object {
    "object": "ServiceAccount orchestrator-prod/zookeeper",
  },
  Object {
    "object": "ConfigMap orchestrator-prod/zookeeper-config",
  },
  Object {
    "object": "Service orchestrator-prod/zookeeper-headless",
    "ports": Array [
      "client:2181",
      "quorum:2888",
      "election:3888",
    ],
  },
  Object {
    "object": "Service orchestrator-prod/zookeeper",
    "ports": Array [
      "client:2181",
      "metrics:7000",
    ],
  },
  Object {
    "claims": Array [
      "data 50Gi fast-ssd",
      "datalog 50Gi fast-ssd",
    ],
    "containers": Array [
      "myid docker.io/library/zookeeper:3.8.4 cpu 10m/100m mem 16Mi/32Mi",
      "zookeeper docker.io/library/zookeeper:3.8.4 cpu 1/2 mem 4Gi/4Gi",
    ],
    "object": "StatefulSet orchestrator-prod/zookeeper",
    "replicas": 3,
  },
  Object {
    "budget": "minAvailable 2",
    "object": "PodDisruptionBudget orchestrator-prod/zookeeper",
  },
]
`

exports[`test/synth/snapshot.test.ts > TAP > dist/staging > staging inventory 1`] = `
Array [
  Object {
    "object": "ServiceAccount orchestrator-staging/marathon",
  },
  Object {
    "object": "Service orchestrator-staging/marathon",
    "ports": Array [
      "http:8080",
    ],
  },
  Object {
    "containers": Array [
      "marathon docker.io/mesosphere/marathon:v1.11.24 cpu 250m/1 mem 1536Mi/1536Mi",
    ],
    "object": "Deployment orchestrator-staging/marathon",
    "replicas": 3,
  },
  Object {
    "budget": "maxUnavailable 1",
    "object": "PodDisruptionBudget orchestrator-staging/marathon",
  },
  Object {
    "object": "ServiceAccount orchestrator-staging-hosts/mesos-agent",
  },
  Object {
    "containers": Array [
      "mesos-agent docker.io/mesosphere/mesos-slave:1.7.0 cpu 250m/2 mem 512Mi/1Gi",
      "exporter docker.io/mesosphere/mesos-exporter:v1.1.2 cpu 10m/100m mem 32Mi/64Mi",
    ],
    "object": "DaemonSet orchestrator-staging-hosts/mesos-agent",
  },
  Object {
    "object": "ServiceAccount orchestrator-staging/mesos-master",
  },
  Object {
    "object": "Service orchestrator-staging/mesos-master-headless",
    "ports": Array [
      "http:5050",
    ],
  },
  Object {
    "object": "Service orchestrator-staging/mesos-master",
    "ports": Array [
      "http:5050",
      "metrics:9110",
    ],
  },
  Object {
    "claims": Array [
      "work 10Gi standard",
    ],
    "containers": Array [
      "mesos-master docker.io/mesosphere/mesos-master:1.7.0 cpu 250m/1 mem 1Gi/1Gi",
      "exporter docker.io/mesosphere/mesos-exporter:v1.1.2 cpu 10m/100m mem 32Mi/64Mi",
    ],
    "object": "StatefulSet orchestrator-staging/mesos-master",
    "replicas": 3,
  },
  Object {
    "budget": "minAvailable 2",
    "object": "PodDisruptionBudget orchestrator-staging/mesos-master",
  },
  Object {
    "object": "Namespace -/orchestrator-staging",
  },
  Object {
    "object": "Namespace -/orchestrator-staging-hosts",
  },
  Object {
    "object": "ServiceAccount orchestrator-staging/zookeeper",
  },
  Object {
    "object": "ConfigMap orchestrator-staging/zookeeper-config",
  },
  Object {
    "object": "Service orchestrator-staging/zookeeper-headless",
    "ports": Array [
      "client:2181",
      "quorum:2888",
      "election:3888",
    ],
  },
  Object {
    "object": "Service orchestrator-staging/zookeeper",
    "ports": Array [
      "client:2181",
      "metrics:7000",
    ],
  },
  Object {
    "claims": Array [
      "data 10Gi standard",
      "datalog 10Gi standard",
    ],
    "containers": Array [
      "myid docker.io/library/zookeeper:3.8.4 cpu 10m/100m mem 16Mi/32Mi",
      "zookeeper docker.io/library/zookeeper:3.8.4 cpu 250m/1 mem 1Gi/1Gi",
    ],
    "object": "StatefulSet orchestrator-staging/zookeeper",
    "replicas": 3,
  },
  Object {
    "budget": "minAvailable 2",
    "object": "PodDisruptionBudget orchestrator-staging/zookeeper",
  },
]
`
