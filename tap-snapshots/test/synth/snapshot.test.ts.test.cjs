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
      "https:8443",
    ],
  },
  Object {
    "object": "Certificate orchestrator-dev/marathon-tls",
  },
  Object {
    "containers": Array [
      "marathon docker.io/mesosphere/marathon:v1.11.24 cpu 100m/1 mem 768Mi/768Mi",
      "zookeeper-tunnel-0 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
    ],
    "object": "Deployment orchestrator-dev/marathon",
    "replicas": 1,
  },
  Object {
    "object": "ServiceAccount orchestrator-dev-hosts/mesos-agent",
  },
  Object {
    "object": "Certificate orchestrator-dev-hosts/mesos-agent-tls",
  },
  Object {
    "containers": Array [
      "mesos-agent docker.io/mesosphere/mesos-slave:1.7.0 cpu 100m/1 mem 256Mi/512Mi",
      "exporter docker.io/mesosphere/mesos-exporter:v1.1.2 cpu 10m/100m mem 32Mi/64Mi",
      "zookeeper-tunnel-0 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
    ],
    "object": "DaemonSet orchestrator-dev-hosts/mesos-agent",
  },
  Object {
    "object": "ServiceAccount orchestrator-dev/mesos-master",
  },
  Object {
    "object": "Service orchestrator-dev/mesos-master-headless",
    "ports": Array [
      "https:5050",
    ],
  },
  Object {
    "object": "Certificate orchestrator-dev/mesos-master-tls",
  },
  Object {
    "object": "Service orchestrator-dev/mesos-master",
    "ports": Array [
      "https:5050",
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
      "zookeeper-tunnel-0 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
    ],
    "object": "StatefulSet orchestrator-dev/mesos-master",
    "replicas": 1,
  },
  Object {
    "object": "ServiceAccount orchestrator-dev/monitoring-app",
  },
  Object {
    "object": "Service orchestrator-dev/monitoring-app",
    "ports": Array [
      "https:4040",
    ],
  },
  Object {
    "object": "Service orchestrator-dev/monitoring-app-canary",
    "ports": Array [
      "https:4040",
    ],
  },
  Object {
    "object": "Certificate orchestrator-dev/monitoring-app-internal-tls",
  },
  Object {
    "object": "Ingress orchestrator-dev/monitoring-app",
  },
  Object {
    "object": "AnalysisTemplate orchestrator-dev/monitoring-app-success-rate",
  },
  Object {
    "object": "AnalysisTemplate orchestrator-dev/monitoring-app-latency",
  },
  Object {
    "containers": Array [
      "app ghcr.io/orchestrator/orchestrator:0.1.0 cpu 100m/500m mem 256Mi/512Mi",
    ],
    "object": "Rollout orchestrator-dev/monitoring-app",
    "replicas": 1,
  },
  Object {
    "object": "ServiceAccount orchestrator-dev-hosts/monitoring-probe",
  },
  Object {
    "object": "ClusterRole -/orchestrator-dev-hosts-monitoring-probe",
  },
  Object {
    "object": "ClusterRoleBinding -/orchestrator-dev-hosts-monitoring-probe",
  },
  Object {
    "containers": Array [
      "probe ghcr.io/orchestrator/orchestrator:0.1.0 cpu 20m/100m mem 64Mi/100Mi",
    ],
    "object": "DaemonSet orchestrator-dev-hosts/monitoring-probe",
  },
  Object {
    "object": "Namespace -/orchestrator-dev",
  },
  Object {
    "object": "Namespace -/orchestrator-dev-hosts",
  },
  Object {
    "object": "Namespace -/orchestrator-dev-tenant-sandbox",
  },
  Object {
    "object": "ResourceQuota orchestrator-dev-tenant-sandbox/tenant-quota",
  },
  Object {
    "object": "LimitRange orchestrator-dev-tenant-sandbox/tenant-limits",
  },
  Object {
    "object": "NetworkPolicy orchestrator-dev-tenant-sandbox/allow-same-namespace",
  },
  Object {
    "object": "ServiceAccount orchestrator-dev/prometheus",
  },
  Object {
    "object": "ClusterRole -/orchestrator-dev-prometheus",
  },
  Object {
    "object": "ClusterRoleBinding -/orchestrator-dev-prometheus",
  },
  Object {
    "object": "ConfigMap orchestrator-dev/prometheus-config",
  },
  Object {
    "object": "ConfigMap orchestrator-dev/prometheus-rules",
  },
  Object {
    "object": "Service orchestrator-dev/prometheus",
    "ports": Array [
      "http:9090",
    ],
  },
  Object {
    "claims": Array [
      "data 10Gi standard",
    ],
    "containers": Array [
      "prometheus quay.io/prometheus/prometheus:v2.42.0 cpu 100m/500m mem 512Mi/1Gi",
    ],
    "object": "StatefulSet orchestrator-dev/prometheus",
    "replicas": 1,
  },
  Object {
    "object": "ServiceAccount orchestrator-dev/grafana",
  },
  Object {
    "object": "ConfigMap orchestrator-dev/grafana-datasources",
  },
  Object {
    "object": "ConfigMap orchestrator-dev/grafana-dashboard-provider",
  },
  Object {
    "object": "ConfigMap orchestrator-dev/grafana-dashboards",
  },
  Object {
    "object": "Certificate orchestrator-dev/grafana-internal-tls",
  },
  Object {
    "object": "Service orchestrator-dev/grafana",
    "ports": Array [
      "https:3000",
    ],
  },
  Object {
    "object": "Ingress orchestrator-dev/grafana",
  },
  Object {
    "containers": Array [
      "grafana docker.io/grafana/grafana:10.4.2 cpu 50m/500m mem 128Mi/256Mi",
    ],
    "object": "Deployment orchestrator-dev/grafana",
    "replicas": 1,
  },
  Object {
    "object": "NetworkPolicy orchestrator-dev/default-deny",
  },
  Object {
    "object": "NetworkPolicy orchestrator-dev/allow-dns",
  },
  Object {
    "object": "NetworkPolicy orchestrator-dev-hosts/default-deny",
  },
  Object {
    "object": "NetworkPolicy orchestrator-dev-hosts/allow-dns",
  },
  Object {
    "object": "NetworkPolicy orchestrator-dev-tenant-sandbox/default-deny",
  },
  Object {
    "object": "NetworkPolicy orchestrator-dev-tenant-sandbox/allow-dns",
  },
  Object {
    "object": "NetworkPolicy orchestrator-dev/allow-grafana",
  },
  Object {
    "object": "NetworkPolicy orchestrator-dev/allow-marathon",
  },
  Object {
    "object": "NetworkPolicy orchestrator-dev/allow-mesos-master",
  },
  Object {
    "object": "NetworkPolicy orchestrator-dev/allow-monitoring-app",
  },
  Object {
    "object": "NetworkPolicy orchestrator-dev/allow-prometheus",
  },
  Object {
    "object": "NetworkPolicy orchestrator-dev/allow-zookeeper",
  },
  Object {
    "object": "ClusterIssuer -/orchestrator-dev-selfsigned",
  },
  Object {
    "object": "Certificate cert-manager/orchestrator-dev-ca",
  },
  Object {
    "object": "ClusterIssuer -/orchestrator-dev-ca",
  },
  Object {
    "object": "Certificate orchestrator-dev/platform-ca",
  },
  Object {
    "object": "Certificate orchestrator-dev-hosts/platform-ca",
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
      "secure-client:2281",
      "quorum:2888",
      "election:3888",
    ],
  },
  Object {
    "object": "Certificate orchestrator-dev/zookeeper-tls",
  },
  Object {
    "object": "Service orchestrator-dev/zookeeper",
    "ports": Array [
      "secure-client:2281",
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
      "https:8443",
    ],
  },
  Object {
    "object": "Certificate orchestrator-prod/marathon-tls",
  },
  Object {
    "containers": Array [
      "marathon docker.io/mesosphere/marathon:v1.11.24 cpu 1/2 mem 4Gi/4Gi",
      "zookeeper-tunnel-0 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
      "zookeeper-tunnel-1 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
      "zookeeper-tunnel-2 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
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
    "object": "Certificate orchestrator-prod-hosts/mesos-agent-tls",
  },
  Object {
    "containers": Array [
      "mesos-agent docker.io/mesosphere/mesos-slave:1.7.0 cpu 500m/2 mem 1Gi/2Gi",
      "exporter docker.io/mesosphere/mesos-exporter:v1.1.2 cpu 20m/200m mem 64Mi/128Mi",
      "zookeeper-tunnel-0 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
      "zookeeper-tunnel-1 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
      "zookeeper-tunnel-2 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
    ],
    "object": "DaemonSet orchestrator-prod-hosts/mesos-agent",
  },
  Object {
    "object": "ServiceAccount orchestrator-prod/mesos-master",
  },
  Object {
    "object": "Service orchestrator-prod/mesos-master-headless",
    "ports": Array [
      "https:5050",
    ],
  },
  Object {
    "object": "Certificate orchestrator-prod/mesos-master-tls",
  },
  Object {
    "object": "Service orchestrator-prod/mesos-master",
    "ports": Array [
      "https:5050",
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
      "zookeeper-tunnel-0 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
      "zookeeper-tunnel-1 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
      "zookeeper-tunnel-2 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
    ],
    "object": "StatefulSet orchestrator-prod/mesos-master",
    "replicas": 3,
  },
  Object {
    "budget": "minAvailable 2",
    "object": "PodDisruptionBudget orchestrator-prod/mesos-master",
  },
  Object {
    "object": "ServiceAccount orchestrator-prod/monitoring-app",
  },
  Object {
    "object": "Service orchestrator-prod/monitoring-app",
    "ports": Array [
      "https:4040",
    ],
  },
  Object {
    "object": "Service orchestrator-prod/monitoring-app-canary",
    "ports": Array [
      "https:4040",
    ],
  },
  Object {
    "object": "Certificate orchestrator-prod/monitoring-app-internal-tls",
  },
  Object {
    "object": "Ingress orchestrator-prod/monitoring-app",
  },
  Object {
    "object": "AnalysisTemplate orchestrator-prod/monitoring-app-success-rate",
  },
  Object {
    "object": "AnalysisTemplate orchestrator-prod/monitoring-app-latency",
  },
  Object {
    "containers": Array [
      "app ghcr.io/orchestrator/orchestrator:0.1.0 cpu 500m/2 mem 1Gi/2Gi",
    ],
    "object": "Rollout orchestrator-prod/monitoring-app",
    "replicas": 3,
  },
  Object {
    "budget": "maxUnavailable 1",
    "object": "PodDisruptionBudget orchestrator-prod/monitoring-app",
  },
  Object {
    "object": "ServiceAccount orchestrator-prod-hosts/monitoring-probe",
  },
  Object {
    "object": "ClusterRole -/orchestrator-prod-hosts-monitoring-probe",
  },
  Object {
    "object": "ClusterRoleBinding -/orchestrator-prod-hosts-monitoring-probe",
  },
  Object {
    "containers": Array [
      "probe ghcr.io/orchestrator/orchestrator:0.1.0 cpu 50m/100m mem 64Mi/100Mi",
    ],
    "object": "DaemonSet orchestrator-prod-hosts/monitoring-probe",
  },
  Object {
    "object": "Namespace -/orchestrator-prod",
  },
  Object {
    "object": "Namespace -/orchestrator-prod-hosts",
  },
  Object {
    "object": "Namespace -/orchestrator-prod-tenant-payments",
  },
  Object {
    "object": "ResourceQuota orchestrator-prod-tenant-payments/tenant-quota",
  },
  Object {
    "object": "LimitRange orchestrator-prod-tenant-payments/tenant-limits",
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod-tenant-payments/allow-same-namespace",
  },
  Object {
    "object": "Namespace -/orchestrator-prod-tenant-search",
  },
  Object {
    "object": "ResourceQuota orchestrator-prod-tenant-search/tenant-quota",
  },
  Object {
    "object": "LimitRange orchestrator-prod-tenant-search/tenant-limits",
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod-tenant-search/allow-same-namespace",
  },
  Object {
    "object": "Namespace -/orchestrator-prod-tenant-analytics",
  },
  Object {
    "object": "ResourceQuota orchestrator-prod-tenant-analytics/tenant-quota",
  },
  Object {
    "object": "LimitRange orchestrator-prod-tenant-analytics/tenant-limits",
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod-tenant-analytics/allow-same-namespace",
  },
  Object {
    "object": "ServiceAccount orchestrator-prod/prometheus",
  },
  Object {
    "object": "ClusterRole -/orchestrator-prod-prometheus",
  },
  Object {
    "object": "ClusterRoleBinding -/orchestrator-prod-prometheus",
  },
  Object {
    "object": "ConfigMap orchestrator-prod/prometheus-config",
  },
  Object {
    "object": "ConfigMap orchestrator-prod/prometheus-rules",
  },
  Object {
    "object": "Service orchestrator-prod/prometheus",
    "ports": Array [
      "http:9090",
    ],
  },
  Object {
    "claims": Array [
      "data 200Gi fast-ssd",
    ],
    "containers": Array [
      "prometheus quay.io/prometheus/prometheus:v2.42.0 cpu 1/2 mem 8Gi/8Gi",
    ],
    "object": "StatefulSet orchestrator-prod/prometheus",
    "replicas": 1,
  },
  Object {
    "object": "ServiceAccount orchestrator-prod/grafana",
  },
  Object {
    "object": "ConfigMap orchestrator-prod/grafana-datasources",
  },
  Object {
    "object": "ConfigMap orchestrator-prod/grafana-dashboard-provider",
  },
  Object {
    "object": "ConfigMap orchestrator-prod/grafana-dashboards",
  },
  Object {
    "object": "Certificate orchestrator-prod/grafana-internal-tls",
  },
  Object {
    "object": "Service orchestrator-prod/grafana",
    "ports": Array [
      "https:3000",
    ],
  },
  Object {
    "object": "Ingress orchestrator-prod/grafana",
  },
  Object {
    "containers": Array [
      "grafana docker.io/grafana/grafana:10.4.2 cpu 50m/500m mem 128Mi/256Mi",
    ],
    "object": "Deployment orchestrator-prod/grafana",
    "replicas": 1,
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod/default-deny",
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod/allow-dns",
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod-hosts/default-deny",
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod-hosts/allow-dns",
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod-tenant-analytics/default-deny",
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod-tenant-analytics/allow-dns",
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod-tenant-payments/default-deny",
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod-tenant-payments/allow-dns",
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod-tenant-search/default-deny",
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod-tenant-search/allow-dns",
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod/allow-grafana",
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod/allow-marathon",
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod/allow-mesos-master",
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod/allow-monitoring-app",
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod/allow-prometheus",
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod/allow-zk-sync-legacy-marathon",
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod/allow-zk-sync-legacy-mesos",
  },
  Object {
    "object": "NetworkPolicy orchestrator-prod/allow-zookeeper",
  },
  Object {
    "object": "ClusterIssuer -/orchestrator-prod-selfsigned",
  },
  Object {
    "object": "Certificate cert-manager/orchestrator-prod-ca",
  },
  Object {
    "object": "ClusterIssuer -/orchestrator-prod-ca",
  },
  Object {
    "object": "Certificate orchestrator-prod/platform-ca",
  },
  Object {
    "object": "Certificate orchestrator-prod-hosts/platform-ca",
  },
  Object {
    "object": "ServiceAccount orchestrator-prod/zk-sync",
  },
  Object {
    "object": "Certificate orchestrator-prod/zk-sync-tls",
  },
  Object {
    "object": "Service orchestrator-prod/zk-sync-legacy-mesos",
    "ports": Array [
      "metrics:4042",
    ],
  },
  Object {
    "containers": Array [
      "zk-sync ghcr.io/orchestrator/orchestrator:0.1.0 cpu 100m/1 mem 128Mi/512Mi",
      "zookeeper-tunnel-0 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
      "zookeeper-tunnel-1 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
      "zookeeper-tunnel-2 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
    ],
    "object": "Deployment orchestrator-prod/zk-sync-legacy-mesos",
    "replicas": 1,
  },
  Object {
    "object": "Service orchestrator-prod/zk-sync-legacy-marathon",
    "ports": Array [
      "metrics:4042",
    ],
  },
  Object {
    "containers": Array [
      "zk-sync ghcr.io/orchestrator/orchestrator:0.1.0 cpu 100m/1 mem 128Mi/512Mi",
      "zookeeper-tunnel-0 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
      "zookeeper-tunnel-1 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
      "zookeeper-tunnel-2 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
    ],
    "object": "Deployment orchestrator-prod/zk-sync-legacy-marathon",
    "replicas": 1,
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
      "secure-client:2281",
      "quorum:2888",
      "election:3888",
    ],
  },
  Object {
    "object": "Certificate orchestrator-prod/zookeeper-tls",
  },
  Object {
    "object": "Service orchestrator-prod/zookeeper",
    "ports": Array [
      "secure-client:2281",
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
      "https:8443",
    ],
  },
  Object {
    "object": "Certificate orchestrator-staging/marathon-tls",
  },
  Object {
    "containers": Array [
      "marathon docker.io/mesosphere/marathon:v1.11.24 cpu 250m/1 mem 1536Mi/1536Mi",
      "zookeeper-tunnel-0 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
      "zookeeper-tunnel-1 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
      "zookeeper-tunnel-2 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
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
    "object": "Certificate orchestrator-staging-hosts/mesos-agent-tls",
  },
  Object {
    "containers": Array [
      "mesos-agent docker.io/mesosphere/mesos-slave:1.7.0 cpu 250m/2 mem 512Mi/1Gi",
      "exporter docker.io/mesosphere/mesos-exporter:v1.1.2 cpu 10m/100m mem 32Mi/64Mi",
      "zookeeper-tunnel-0 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
      "zookeeper-tunnel-1 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
      "zookeeper-tunnel-2 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
    ],
    "object": "DaemonSet orchestrator-staging-hosts/mesos-agent",
  },
  Object {
    "object": "ServiceAccount orchestrator-staging/mesos-master",
  },
  Object {
    "object": "Service orchestrator-staging/mesos-master-headless",
    "ports": Array [
      "https:5050",
    ],
  },
  Object {
    "object": "Certificate orchestrator-staging/mesos-master-tls",
  },
  Object {
    "object": "Service orchestrator-staging/mesos-master",
    "ports": Array [
      "https:5050",
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
      "zookeeper-tunnel-0 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
      "zookeeper-tunnel-1 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
      "zookeeper-tunnel-2 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
    ],
    "object": "StatefulSet orchestrator-staging/mesos-master",
    "replicas": 3,
  },
  Object {
    "budget": "minAvailable 2",
    "object": "PodDisruptionBudget orchestrator-staging/mesos-master",
  },
  Object {
    "object": "ServiceAccount orchestrator-staging/monitoring-app",
  },
  Object {
    "object": "Service orchestrator-staging/monitoring-app",
    "ports": Array [
      "https:4040",
    ],
  },
  Object {
    "object": "Service orchestrator-staging/monitoring-app-canary",
    "ports": Array [
      "https:4040",
    ],
  },
  Object {
    "object": "Certificate orchestrator-staging/monitoring-app-internal-tls",
  },
  Object {
    "object": "Ingress orchestrator-staging/monitoring-app",
  },
  Object {
    "object": "AnalysisTemplate orchestrator-staging/monitoring-app-success-rate",
  },
  Object {
    "object": "AnalysisTemplate orchestrator-staging/monitoring-app-latency",
  },
  Object {
    "containers": Array [
      "app ghcr.io/orchestrator/orchestrator:0.1.0 cpu 250m/1 mem 512Mi/1Gi",
    ],
    "object": "Rollout orchestrator-staging/monitoring-app",
    "replicas": 2,
  },
  Object {
    "budget": "maxUnavailable 1",
    "object": "PodDisruptionBudget orchestrator-staging/monitoring-app",
  },
  Object {
    "object": "ServiceAccount orchestrator-staging-hosts/monitoring-probe",
  },
  Object {
    "object": "ClusterRole -/orchestrator-staging-hosts-monitoring-probe",
  },
  Object {
    "object": "ClusterRoleBinding -/orchestrator-staging-hosts-monitoring-probe",
  },
  Object {
    "containers": Array [
      "probe ghcr.io/orchestrator/orchestrator:0.1.0 cpu 50m/100m mem 64Mi/100Mi",
    ],
    "object": "DaemonSet orchestrator-staging-hosts/monitoring-probe",
  },
  Object {
    "object": "Namespace -/orchestrator-staging",
  },
  Object {
    "object": "Namespace -/orchestrator-staging-hosts",
  },
  Object {
    "object": "Namespace -/orchestrator-staging-tenant-payments",
  },
  Object {
    "object": "ResourceQuota orchestrator-staging-tenant-payments/tenant-quota",
  },
  Object {
    "object": "LimitRange orchestrator-staging-tenant-payments/tenant-limits",
  },
  Object {
    "object": "NetworkPolicy orchestrator-staging-tenant-payments/allow-same-namespace",
  },
  Object {
    "object": "Namespace -/orchestrator-staging-tenant-search",
  },
  Object {
    "object": "ResourceQuota orchestrator-staging-tenant-search/tenant-quota",
  },
  Object {
    "object": "LimitRange orchestrator-staging-tenant-search/tenant-limits",
  },
  Object {
    "object": "NetworkPolicy orchestrator-staging-tenant-search/allow-same-namespace",
  },
  Object {
    "object": "ServiceAccount orchestrator-staging/prometheus",
  },
  Object {
    "object": "ClusterRole -/orchestrator-staging-prometheus",
  },
  Object {
    "object": "ClusterRoleBinding -/orchestrator-staging-prometheus",
  },
  Object {
    "object": "ConfigMap orchestrator-staging/prometheus-config",
  },
  Object {
    "object": "ConfigMap orchestrator-staging/prometheus-rules",
  },
  Object {
    "object": "Service orchestrator-staging/prometheus",
    "ports": Array [
      "http:9090",
    ],
  },
  Object {
    "claims": Array [
      "data 50Gi standard",
    ],
    "containers": Array [
      "prometheus quay.io/prometheus/prometheus:v2.42.0 cpu 250m/1 mem 2Gi/2Gi",
    ],
    "object": "StatefulSet orchestrator-staging/prometheus",
    "replicas": 1,
  },
  Object {
    "object": "ServiceAccount orchestrator-staging/grafana",
  },
  Object {
    "object": "ConfigMap orchestrator-staging/grafana-datasources",
  },
  Object {
    "object": "ConfigMap orchestrator-staging/grafana-dashboard-provider",
  },
  Object {
    "object": "ConfigMap orchestrator-staging/grafana-dashboards",
  },
  Object {
    "object": "Certificate orchestrator-staging/grafana-internal-tls",
  },
  Object {
    "object": "Service orchestrator-staging/grafana",
    "ports": Array [
      "https:3000",
    ],
  },
  Object {
    "object": "Ingress orchestrator-staging/grafana",
  },
  Object {
    "containers": Array [
      "grafana docker.io/grafana/grafana:10.4.2 cpu 50m/500m mem 128Mi/256Mi",
    ],
    "object": "Deployment orchestrator-staging/grafana",
    "replicas": 1,
  },
  Object {
    "object": "NetworkPolicy orchestrator-staging/default-deny",
  },
  Object {
    "object": "NetworkPolicy orchestrator-staging/allow-dns",
  },
  Object {
    "object": "NetworkPolicy orchestrator-staging-hosts/default-deny",
  },
  Object {
    "object": "NetworkPolicy orchestrator-staging-hosts/allow-dns",
  },
  Object {
    "object": "NetworkPolicy orchestrator-staging-tenant-payments/default-deny",
  },
  Object {
    "object": "NetworkPolicy orchestrator-staging-tenant-payments/allow-dns",
  },
  Object {
    "object": "NetworkPolicy orchestrator-staging-tenant-search/default-deny",
  },
  Object {
    "object": "NetworkPolicy orchestrator-staging-tenant-search/allow-dns",
  },
  Object {
    "object": "NetworkPolicy orchestrator-staging/allow-grafana",
  },
  Object {
    "object": "NetworkPolicy orchestrator-staging/allow-marathon",
  },
  Object {
    "object": "NetworkPolicy orchestrator-staging/allow-mesos-master",
  },
  Object {
    "object": "NetworkPolicy orchestrator-staging/allow-monitoring-app",
  },
  Object {
    "object": "NetworkPolicy orchestrator-staging/allow-prometheus",
  },
  Object {
    "object": "NetworkPolicy orchestrator-staging/allow-zk-sync-legacy-mesos",
  },
  Object {
    "object": "NetworkPolicy orchestrator-staging/allow-zookeeper",
  },
  Object {
    "object": "ClusterIssuer -/orchestrator-staging-selfsigned",
  },
  Object {
    "object": "Certificate cert-manager/orchestrator-staging-ca",
  },
  Object {
    "object": "ClusterIssuer -/orchestrator-staging-ca",
  },
  Object {
    "object": "Certificate orchestrator-staging/platform-ca",
  },
  Object {
    "object": "Certificate orchestrator-staging-hosts/platform-ca",
  },
  Object {
    "object": "ServiceAccount orchestrator-staging/zk-sync",
  },
  Object {
    "object": "Certificate orchestrator-staging/zk-sync-tls",
  },
  Object {
    "object": "Service orchestrator-staging/zk-sync-legacy-mesos",
    "ports": Array [
      "metrics:4042",
    ],
  },
  Object {
    "containers": Array [
      "zk-sync ghcr.io/orchestrator/orchestrator:0.1.0 cpu 100m/1 mem 128Mi/512Mi",
      "zookeeper-tunnel-0 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
      "zookeeper-tunnel-1 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
      "zookeeper-tunnel-2 docker.io/ghostunnel/ghostunnel:v1.11.1-distroless cpu 10m/100m mem 16Mi/64Mi",
    ],
    "object": "Deployment orchestrator-staging/zk-sync-legacy-mesos",
    "replicas": 1,
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
      "secure-client:2281",
      "quorum:2888",
      "election:3888",
    ],
  },
  Object {
    "object": "Certificate orchestrator-staging/zookeeper-tls",
  },
  Object {
    "object": "Service orchestrator-staging/zookeeper",
    "ports": Array [
      "secure-client:2281",
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
