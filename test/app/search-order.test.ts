/**
 * The ids' order keys (runtime/app/search-order.ts) against the strings themselves: after random
 * adds and removes (ids sharing long prefixes, removed ids added again, doc numbers reused, many
 * ids landing between the same two), `compare` of every two live docs says what comparing their
 * ids says, before and after rebuilds, with rebuilds due often and never.
 */
import t from 'tap';
import { IdOrder } from '../../runtime/app/search-order';
import { seededRandom } from './fleet';

function sign(x: number): number {
  return x < 0 ? -1 : x > 0 ? 1 : 0;
}

/** Every pair of live docs: the number of pairs `compare` orders otherwise than their ids. */
function wrongPairs(order: IdOrder, live: Map<number, string>): number {
  const nums = [...live.keys()];
  let wrong = 0;
  for (const a of nums) {
    for (const b of nums) {
      const ia = live.get(a)!;
      const ib = live.get(b)!;
      if (sign(order.compare(a, b)) !== (ia < ib ? -1 : ia > ib ? 1 : 0)) wrong++;
    }
  }
  return wrong;
}

function randomId(rand: () => number): string {
  // Long shared prefixes, as the app's ids have (`process;host-0042;…`), and a few short ones.
  const kind = ['process;host-', 'container;', 'pod;', 'p', ''][Math.floor(rand() * 5)]!;
  return `${kind}${String(Math.floor(rand() * 300)).padStart(4, '0')}${rand() < 0.3 ? `;${Math.floor(rand() * 9)}` : ''}`;
}

for (const minRebuild of [1, 8, 1e9]) {
  t.test(`compare is the ids' string order through adds and removes (rebuilds due after ${minRebuild} changes)`, async (t) => {
    const rand = seededRandom(7 + minRebuild);
    const order = new IdOrder(minRebuild);
    const live = new Map<number, string>();
    const free: number[] = [];
    let next = 0;
    let checks = 0;
    let wrong = 0;
    for (let step = 0; step < 1500; step++) {
      const removeOne = live.size > 0 && rand() < 0.4;
      if (removeOne) {
        const nums = [...live.keys()];
        const num = nums[Math.floor(rand() * nums.length)]!;
        order.remove(num);
        live.delete(num);
        free.push(num);
      } else {
        const id = randomId(rand);
        if ([...live.values()].includes(id)) continue; // ids are unique among live docs
        const num = free.length > 0 && rand() < 0.7 ? free.pop()! : next++;
        order.add(num, id);
        live.set(num, id);
      }
      if (step % 50 === 0 || step > 1450) {
        checks++;
        wrong += wrongPairs(order, live);
      }
    }
    t.ok(live.size > 50, `the index held ${live.size} docs at the end`);
    t.equal(wrong, 0, `every pair of live docs compared as their ids do, at ${checks} checks`);
  });
}

t.test('a removed id added again, under another doc number, takes its place', async (t) => {
  // Rebuilt after the fifth add; the remove and three adds after it are not yet due (4 of 5).
  const order = new IdOrder(5);
  const ids = ['b', 'd', 'f', 'h', 'j'];
  ids.forEach((id, num) => order.add(num, id));
  t.same([...order.keys.slice(0, 5)], [0, 1, 2, 3, 4], 'after the rebuild, each key is its index');
  order.remove(1);
  order.add(7, 'd');
  order.add(8, 'c');
  order.add(9, 'e');
  t.same([order.keys[7], order.keys[8], order.keys[9]], [1, 0.5, 1.5], "'d' takes the ghost's key; 'c' and 'e' go between");
  const live = new Map<number, string>([[0, 'b'], [7, 'd'], [2, 'f'], [3, 'h'], [4, 'j'], [8, 'c'], [9, 'e']]);
  t.equal(wrongPairs(order, live), 0);
});

t.test('ids are ordered by UTF-16 code units, as the strings compare', async (t) => {
  const order = new IdOrder(2);
  const ids = ['é', 'e', 'E', '😀', '\uffff', 'e\u0000', '', 'ab', 'a'];
  ids.forEach((id, num) => order.add(num, id));
  t.equal(wrongPairs(order, new Map(ids.map((id, num) => [num, id]))), 0);
});
