/**
 * Cross-cutting annotations applied to every object once the platform is built: the Argo CD
 * sync wave of each part (ZooKeeper before the masters, then agents, Marathon, monitoring),
 * and the AppArmor profile of every container that is not privileged (runtime/default; a
 * privileged container runs unconfined whatever it says).
 */
import { ApiObject, type Chart, JsonPatch } from 'cdk8s';
import { appArmorAnnotation } from '../lib/security';

export const SYNC_WAVE_ANNOTATION = 'argocd.argoproj.io/sync-wave';
const POD_TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout']);

/* eslint-disable @typescript-eslint/no-explicit-any */
export function applyHardening(chart: Chart, syncWave: number): void {
  for (const obj of chart.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject)) {
    obj.metadata.addAnnotation(SYNC_WAVE_ANNOTATION, String(syncWave));
    if (!POD_TEMPLATE_KINDS.has(obj.kind)) continue;
    const json = obj.toJson() as any;
    const template = json.spec?.template;
    if (!template) continue;
    const annotations: Record<string, string> = {};
    for (const c of [...(template.spec.initContainers ?? []), ...template.spec.containers]) {
      if (c.securityContext?.privileged === true) continue;
      annotations[appArmorAnnotation(c.name)] = 'runtime/default';
    }
    if (template.metadata?.annotations) {
      for (const [k, v] of Object.entries(annotations)) {
        obj.addJsonPatch(JsonPatch.add(`/spec/template/metadata/annotations/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, v));
      }
    } else if (Object.keys(annotations).length) {
      obj.addJsonPatch(JsonPatch.add('/spec/template/metadata/annotations', annotations));
    }
  }
}
