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
trap 'rm -f "$combined"' EXIT
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
