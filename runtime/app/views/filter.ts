/** Whether a rendered node passes a view's filters (absent filters pass everything). */
import type { Filters } from './catalog';
import type { Facets } from './render';

export function passes(filters: Filters, f: Facets): boolean {
  if (filters.namespace !== undefined && f.namespace !== filters.namespace) return false;
  if (filters.status === 'running' && !f.running) return false;
  if (filters.status === 'stopped' && f.running) return false;
  if (filters.system === 'application' && f.system) return false;
  if (filters.system === 'system' && !f.system) return false;
  if (filters.unconnected === 'hide' && !f.connected) return false;
  return true;
}
