import t from 'tap';
import { InvalidArgumentError } from 'commander';
import { MIN_DURATION_MS, parseDuration } from '../../runtime/common/duration';

t.test('every unit, and bare numbers as seconds', async (t) => {
  t.equal(parseDuration('15s'), 15_000);
  t.equal(parseDuration('15'), 15_000);
  t.equal(parseDuration('500ms'), 500);
  t.equal(parseDuration('2m'), 120_000);
  t.equal(parseDuration('1h'), 3_600_000);
  t.equal(parseDuration(' 1.5s '), 1_500);
});

t.test('mistakes are refused with a message naming them', async (t) => {
  t.throws(() => parseDuration('fast'), new InvalidArgumentError('not a duration: "fast" (e.g. 15s, 500ms, 2m)'));
  t.throws(() => parseDuration('15 s'), /not a duration/);
  t.throws(() => parseDuration('-1s'), /not a duration/);
  t.throws(() => parseDuration('10d'), /not a duration/);
  t.throws(() => parseDuration('50ms'), { message: `50ms is under ${MIN_DURATION_MS}ms` });
  t.equal(parseDuration(`${MIN_DURATION_MS}ms`), MIN_DURATION_MS, 'the minimum itself is accepted');
});
