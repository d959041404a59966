/**
 * The UI declares the API shapes it reads (runtime/ui/types.ts) instead of importing them, so
 * that it meets the app only over HTTP and WebSocket. This file keeps the two from drifting:
 * the type assertions below fail `npm test`'s typecheck when the app starts sending something
 * the UI's types do not accept, and the runtime checks compare the UI's view and filter lists
 * with the app's catalog.
 */
import t from 'tap';
import type { SearchHit as AppSearchHit, SearchResult as AppSearchResult } from '../../runtime/app/search';
import type { NodeDetail as AppNodeDetail } from '../../runtime/app/views/detail';
import type { ControlRef as AppControlRef, MetricRow as AppMetricRow, NodeRef as AppNodeRef, ViewNode as AppViewNode } from '../../runtime/app/views/render';
import { FILTER_NAMES, VIEW_IDS } from '../../runtime/app/views/catalog';
import { TOPOLOGY_NAMES } from '../../runtime/report/schema';
import type * as Ui from '../../runtime/ui/types';
import { FILTERS, VIEWS, VIEW_OF_TOPOLOGY } from '../../runtime/ui/types';

/** Compiles only when every value of type A is also a value of type B. */
type Accepts<B, A extends B> = A;
export type Contract = [
  Accepts<Ui.SearchHit, AppSearchHit>,
  Accepts<Ui.SearchResult, AppSearchResult>,
  Accepts<Ui.NodeRef, AppNodeRef>,
  Accepts<Ui.ControlRef, AppControlRef>,
  Accepts<Ui.MetricRow, AppMetricRow>,
  Accepts<Ui.ViewNode, AppViewNode>,
  Accepts<Ui.NodeDetail, AppNodeDetail>,
];

t.test('the page offers exactly the app\'s views and filters', async (t) => {
  t.same(VIEWS.map((v) => v.id).sort(), [...VIEW_IDS].sort());
  t.same([...FILTERS].sort(), [...FILTER_NAMES].sort());
});

t.test('every topology but endpoints has a view in the page', async (t) => {
  const shown = TOPOLOGY_NAMES.filter((n) => n !== 'endpoint');
  t.same(Object.keys(VIEW_OF_TOPOLOGY).sort(), [...shown].sort());
  for (const view of Object.values(VIEW_OF_TOPOLOGY)) t.ok((VIEW_IDS as readonly string[]).includes(view), `${view} is an app view`);
});
