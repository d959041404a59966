#!/usr/bin/env bash
# Regenerates imports/argoproj.io.ts from the upstream CRDs kept in crds/.
#
# Argo CD and Argo Rollouts share the API group argoproj.io, and `cdk8s import`
# writes one file per group (a second import of the same group overwrites the
# first), so the CRDs we synthesize are concatenated into one multi-document
# file and imported once. AnalysisRun and ApplicationSet are left out: the
# first is created by the Rollouts controller, never by us, and the second is
# not used (the app-of-apps pattern is); both are large and would only slow
# the type checker. Their CRDs stay in crds/ for the schema validator.
set -euo pipefail
cd "$(dirname "$0")/.."
combined=$(mktemp --suffix=.yaml)
# `cdk8s import` also records each imported file in cdk8s.yaml; these are temporary files,
# so cdk8s.yaml is put back as it was when the script ends.
config_backup=$(mktemp)
cp cdk8s.yaml "$config_backup"
trap 'cp "$config_backup" cdk8s.yaml; rm -f "$combined" "$config_backup"' EXIT
first=1
for crd in \
  crds/argo-cd-v3.5.1-application-crd.yaml \
  crds/argo-cd-v3.5.1-appproject-crd.yaml \
  crds/argo-rollouts-v1.9.1-rollout-crd.yaml \
  crds/argo-rollouts-v1.9.1-analysis-template-crd.yaml \
  crds/argo-rollouts-v1.9.1-cluster-analysis-template-crd.yaml; do
  # No trailing separator: cdk8s import treats an empty last document as a URL.
  [ $first -eq 1 ] || printf -- '---\n' >> "$combined"
  cat "$crd" >> "$combined"
  first=0
done
npx cdk8s import "$combined" --output imports --language typescript --no-check-upgrade

# cert-manager's Certificate, Issuer and ClusterIssuer (group cert-manager.io, its own file).
# The upstream CRD files of the pinned chart's release carry Helm template markers only in
# YAML comments and quoted label values, so they parse as plain YAML.
certmanager=$(mktemp --suffix=.yaml)
trap 'cp "$config_backup" cdk8s.yaml; rm -f "$combined" "$certmanager" "$config_backup"' EXIT
first=1
for crd in \
  crds/cert-manager-v1.15.3-certificates-crd.yaml \
  crds/cert-manager-v1.15.3-issuers-crd.yaml \
  crds/cert-manager-v1.15.3-clusterissuers-crd.yaml; do
  [ $first -eq 1 ] || printf -- '---\n' >> "$certmanager"
  cat "$crd" >> "$certmanager"
  first=0
done
npx cdk8s import "$certmanager" --output imports --language typescript --no-check-upgrade
