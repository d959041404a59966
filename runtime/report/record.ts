/**
 * Recordings: reports written to a file as they were sent, to be replayed as
 * test fixtures and benchmark inputs.
 *
 * File format (binary, append-only):
 *
 *     magic   9 bytes   "ORCHREC1\n"
 *     frame*  4 bytes   length N of the encoded report, unsigned big-endian
 *             N bytes   the report in its wire encoding (gzip JSON, see codec.ts)
 *
 * Length-prefixed frames of the wire encoding (rather than JSON lines) so that a
 * recording replays exactly the bytes the app would have received, and so a
 * reader can skip a frame without inflating it. `head -c` cannot cut a frame in
 * a way that goes unnoticed: a short frame is E_RECORD_FORMAT.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { encodeReport, decodeReport, type DecodeLimits } from './codec';
import { ReportError } from './errors';
import { WIRE_LIMITS, type Report } from './schema';

export const RECORDING_MAGIC = Buffer.from('ORCHREC1\n', 'latin1');

/** Appends reports to a recording; creates the file (with its magic) if it is new or empty. */
export class ReportRecorder {
  private constructor(private readonly fh: FileHandle) {}

  static async open(path: string): Promise<ReportRecorder> {
    const fh = await open(path, 'a+');
    try {
      const { size } = await fh.stat();
      if (size === 0) {
        await fh.write(RECORDING_MAGIC);
      } else {
        const head = Buffer.alloc(RECORDING_MAGIC.length);
        await fh.read(head, 0, head.length, 0);
        if (!head.equals(RECORDING_MAGIC)) throw new ReportError('E_RECORD_FORMAT', `${path} is not a report recording`);
      }
    } catch (err) {
      await fh.close();
      throw err;
    }
    return new ReportRecorder(fh);
  }

  async write(report: Report): Promise<void> {
    const body = await encodeReport(report);
    const frame = Buffer.allocUnsafe(4 + body.length);
    frame.writeUInt32BE(body.length, 0);
    body.copy(frame, 4);
    await this.fh.write(frame);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** Writes `reports` to a new recording at `path` (replacing any file there). */
export async function writeRecording(path: string, reports: readonly Report[]): Promise<void> {
  const fh = await open(path, 'w');
  await fh.close();
  const rec = await ReportRecorder.open(path);
  try {
    for (const r of reports) await rec.write(r);
  } finally {
    await rec.close();
  }
}

async function readExactly(fh: FileHandle, buf: Buffer, position: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/**
 * Yields the reports of a recording in order, each decoded and validated.
 * Throws a ReportError: E_RECORD_FORMAT for a bad magic or truncated frame, or
 * the decoder's code for a frame that is not a valid report.
 */
export async function* replayReports(path: string, limits: DecodeLimits = {}): AsyncGenerator<Report> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(RECORDING_MAGIC.length);
    if ((await readExactly(fh, head, 0)) !== head.length || !head.equals(RECORDING_MAGIC)) {
      throw new ReportError('E_RECORD_FORMAT', `${path} is not a report recording (bad magic)`);
    }
    const maxFrame = limits.maxEncodedBytes ?? WIRE_LIMITS.maxEncodedBytes;
    const lenBuf = Buffer.alloc(4);
    let pos = head.length;
    for (let index = 0; ; index++) {
      const got = await readExactly(fh, lenBuf, pos);
      if (got === 0) return;
      if (got < 4) throw new ReportError('E_RECORD_FORMAT', `${path}: frame ${index} has a truncated length`);
      const len = lenBuf.readUInt32BE(0);
      if (len > maxFrame) throw new ReportError('E_RECORD_FORMAT', `${path}: frame ${index} of ${len} bytes is over the ${maxFrame}-byte limit`);
      const body = Buffer.allocUnsafe(len);
      if ((await readExactly(fh, body, pos + 4)) !== len) {
        throw new ReportError('E_RECORD_FORMAT', `${path}: frame ${index} is truncated`);
      }
      pos += 4 + len;
      const decoded = await decodeReport(body, limits);
      if (!decoded.ok) throw new ReportError(decoded.error.code, `${path}: frame ${index}: ${decoded.error.message}`);
      yield decoded.value;
    }
  } finally {
    await fh.close();
  }
}

/** All reports of a recording, in order. */
export async function readRecording(path: string, limits: DecodeLimits = {}): Promise<Report[]> {
  const out: Report[] = [];
  for await (const r of replayReports(path, limits)) out.push(r);
  return out;
}
