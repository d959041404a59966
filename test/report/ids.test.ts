import t from 'tap';
import {
  canonicalAddress,
  containerNodeId,
  encodeIdPart,
  endpointNodeId,
  hostNodeId,
  parseNodeId,
  podNodeId,
  processNodeId,
  topologyOfId,
  mustParseNodeId,
} from '../../runtime/report';

t.test('builders follow the grammar and parse back', async (t) => {
  t.equal(hostNodeId('node-1.example'), 'host;node-1.example');
  t.equal(processNodeId('node-1', 42, 123456), 'process;node-1;42;123456');
  t.equal(containerNodeId('AB'.repeat(32)), 'container;' + 'ab'.repeat(32));
  t.same(parseNodeId('process;node-1;42;123456'), { topology: 'process', parts: ['node-1', '42', '123456'] });
  t.same(parseNodeId(podNodeId('0f1e-22')), { topology: 'pod', parts: ['0f1e-22'] });
  t.equal(topologyOfId('endpoint;;10.0.0.1;80'), 'endpoint');
});

t.test('a reused pid with a new start time is a different process', async (t) => {
  t.not(processNodeId('h', 42, 100), processNodeId('h', 42, 200));
  t.not(processNodeId('h1', 42, 100), processNodeId('h2', 42, 100));
});

t.test('parts that hold the separator, % or non-printables are escaped reversibly', async (t) => {
  const odd = 'a;b%c d\u00e9';
  const id = hostNodeId(odd);
  t.equal(id, 'host;a%3Bb%25c%20d%C3%A9');
  t.same(parseNodeId(id)?.parts, [odd]);
  t.equal(encodeIdPart('sha256:abc/def'), 'sha256:abc/def', 'safe text is left as is');
});

t.test('ids that break the grammar are rejected', async (t) => {
  for (const bad of ['', 'process', 'nope;x', 'process;h;1', 'host;a;b', 'host;bad%zz', 'host;sp ace']) {
    t.equal(parseNodeId(bad), null, JSON.stringify(bad));
  }
  t.throws(() => mustParseNodeId('x'), { code: 'E_ID_INVALID' });
  t.equal(topologyOfId(';x'), null);
});

t.test('endpoint addresses are canonical so two probes name the same end alike', async (t) => {
  t.equal(canonicalAddress('::ffff:10.1.2.3'), '10.1.2.3');
  t.equal(canonicalAddress('0:0:0:0:0:ffff:0a01:0203'), '10.1.2.3');
  t.equal(canonicalAddress('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  t.equal(endpointNodeId('::ffff:10.1.2.3', 443), endpointNodeId('10.1.2.3', 443));
  t.equal(endpointNodeId('10.1.2.3', 443), 'endpoint;;10.1.2.3;443');
});

t.test('loopback endpoints are scoped to host and network namespace', async (t) => {
  const a = endpointNodeId('127.0.0.1', 80, { hostname: 'h1', netns: 4026531833 });
  const b = endpointNodeId('127.0.0.1', 80, { hostname: 'h2', netns: 4026531833 });
  const c = endpointNodeId('::1', 80, { hostname: 'h1', netns: 7 });
  t.equal(a, 'endpoint;h1/4026531833;127.0.0.1;80');
  t.not(a, b);
  t.equal(c, 'endpoint;h1/7;::1;80');
  t.equal(endpointNodeId('10.0.0.1', 80, { hostname: 'h1', netns: 7 }), 'endpoint;;10.0.0.1;80', 'routable addresses ignore the scope');
});
