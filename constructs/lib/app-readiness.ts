/**
 * The app's readiness check, run by the kubelet inside the app's container (an exec probe).
 *
 * `/readyz` takes a bearer token of any role (lead's decision), and a manifest must not carry a
 * token, so an `httpGet` probe (whose headers are in the manifest) cannot call it. A `tcpSocket`
 * probe could, without a token, but it only proves the port is open: a draining pod (SIGTERM
 * received, `/readyz` answering 503) would keep receiving traffic, stable or canary, until it
 * closes the port. This check asks `/readyz` itself: the image's node reads the first token of
 * the mounted tokens file (the same file the app loads) and calls https://127.0.0.1 with the
 * platform CA and the Service's name, so the certificate is verified as any client would.
 * Cost: one short-lived node process per period, inside the app container's limits (not
 * benchmarked here), which is why the period is 10 s rather than 5 s.
 */
export interface AppReadinessOptions {
  readonly port: number;
  readonly path: string;
  /** The app's tokens file (`<name>:<role>:<token>` lines, `#` comments, also comma-separated). */
  readonly tokensFile: string;
  readonly caFile: string;
  /** Name the certificate is checked against (the stable Service's `<name>.<ns>.svc`). */
  readonly serverName: string;
}

/** Kept as one line of plain JavaScript (no template literals) so the manifest shows it as written. */
const CHECK = [
  "const fs=require('fs'),https=require('https');",
  'const [port,path,tokens,ca,name]=process.argv.slice(1);',
  "const entry=fs.readFileSync(tokens,'utf8').split(/\\r?\\n|,/).map((l)=>l.trim()).find((l)=>l!==''&&!l.startsWith('#'));",
  "if(!entry){console.error('no token in '+tokens);process.exit(1);}",
  "const token=entry.split(':').slice(2).join(':');",
  "const req=https.get({host:'127.0.0.1',port:Number(port),path:path,servername:name,ca:fs.readFileSync(ca),headers:{authorization:'Bearer '+token},timeout:3000},(res)=>{res.resume();process.exit(res.statusCode===200?0:1);});",
  "req.on('timeout',()=>{console.error('timeout');process.exit(1);});",
  "req.on('error',(e)=>{console.error(e.message);process.exit(1);});",
].join('');

/** `node -e <check> <port> <path> <tokens> <ca> <name>`: exit 0 only on 200 from `/readyz`. */
export function appReadinessCommand(o: AppReadinessOptions): string[] {
  return ['node', '-e', CHECK, String(o.port), o.path, o.tokensFile, o.caFile, o.serverName];
}
