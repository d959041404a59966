import t from 'tap';
import { MAX_CONTROL_MESSAGE_BYTES, parseAppMessage, parseProbeMessage } from '../../runtime/control/protocol';

t.test('well-formed messages parse to their typed form', async (t) => {
  t.same(parseAppMessage('{"type":"control","id":"1","nodeId":"container;abc","control":"logs","tail":50}'),
    { type: 'control', id: '1', nodeId: 'container;abc', control: 'logs', tail: 50 });
  t.same(parseProbeMessage('{"type":"hello","probeId":"p1","hostId":"host;a","controls":true,"version":"0.1.0"}'),
    { type: 'hello', probeId: 'p1', hostId: 'host;a', controls: true, version: '0.1.0' });
  t.same(parseProbeMessage('{"type":"result","id":"1","ok":true,"output":["a","b"]}'), { type: 'result', id: '1', ok: true, output: ['a', 'b'] });
  t.same(parseProbeMessage('{"type":"result","id":"1","ok":false,"error":{"code":"ENGINE_NOT_FOUND","message":"no such container"}}'),
    { type: 'result', id: '1', ok: false, error: { code: 'ENGINE_NOT_FOUND', message: 'no such container' } });
});

t.test('bad messages are refused with the reason', async (t) => {
  const bad: Array<[() => unknown, RegExp]> = [
    [() => parseAppMessage('not json'), /not JSON/],
    [() => parseAppMessage('[1]'), /not a JSON object/],
    [() => parseAppMessage('{"type":"exec","id":"1"}'), /unknown message type "exec"/],
    [() => parseAppMessage('{"type":"control","id":"1","nodeId":"n","control":"exec"}'), /"control" must be one of start, stop/],
    [() => parseAppMessage('{"type":"control","id":"","nodeId":"n","control":"stop"}'), /"id" must be a non-empty string/],
    [() => parseAppMessage('{"type":"control","id":"1","nodeId":"n","control":"logs","tail":0}'), /"tail" must be an integer from 1 to 1000/],
    [() => parseAppMessage('x'.repeat(MAX_CONTROL_MESSAGE_BYTES + 1)), /larger than/],
    [() => parseProbeMessage('{"type":"hello","probeId":"p","hostId":"h","version":"1"}'), /"controls" must be a boolean/],
    [() => parseProbeMessage('{"type":"result","id":"1","ok":"yes"}'), /"ok" must be true or false/],
    [() => parseProbeMessage('{"type":"result","id":"1","ok":true,"output":[1]}'), /"output" must be an array/],
    [() => parseProbeMessage('{"type":"result","id":"1","ok":false}'), /"error" must be an object/],
  ];
  for (const [f, re] of bad) t.throws(f, re);
});
