/**
 * Command lines as the probe reports them: arguments joined by spaces, cut to
 * the report's string limit, with secrets passed as arguments blanked out.
 *
 * Environment variables are never read. Arguments are the other common place
 * for secrets (`--password=…`, `--token …`, `https://user:pass@host`), and
 * launchers pass whole environments as `--env {…}`; the app shows command lines
 * to every viewer, so the probe redacts the values of flags whose name says
 * they are secret or an environment, and passwords in URLs.
 */
import { LIMITS } from '../../report';

const SECRET_NAME = /(pass(word|wd)?|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|credential|auth|(^|[-_])env(ironment)?$)/i;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]*@/gi;
export const REDACTED = '***';

/** Redacts secret values in an argument list (a new array; the input is untouched). */
export function redactArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    let arg = args[i]!;
    const flag = /^(-{1,2}[A-Za-z0-9_.-]+)(=)(.*)$/s.exec(arg);
    if (flag && SECRET_NAME.test(flag[1]!)) {
      arg = `${flag[1]}=${REDACTED}`;
    } else if (/^-{1,2}[A-Za-z0-9_.-]+$/.test(arg) && SECRET_NAME.test(arg) && i + 1 < args.length && !args[i + 1]!.startsWith('-')) {
      out.push(arg);
      out.push(REDACTED);
      i++;
      continue;
    }
    out.push(arg.replace(URL_PASSWORD, `$1${REDACTED}@`));
  }
  return out;
}

/**
 * The printable command line of a /proc/<pid>/cmdline buffer (NUL-separated
 * arguments). Empty for kernel threads and zombies.
 */
export function formatCmdline(buf: Buffer, len: number): string {
  let end = len;
  while (end > 0 && buf[end - 1] === 0) end--;
  if (end === 0) return '';
  const args = buf.toString('utf8', 0, end).split('\u0000');
  const line = redactArgs(args).join(' ');
  return line.length > LIMITS.maxStringLength ? line.slice(0, LIMITS.maxStringLength - 1) + '…' : line;
}
