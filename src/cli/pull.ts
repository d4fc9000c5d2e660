/**
 * `sluice pull <owner>/<repo>/<file.gguf> | <url> [--dir D] [--sha256 HEX]`: downloads a model into
 * the models folder. The bytes go to `<file>.part` first, so an interrupted download resumes with
 * an HTTP range request; the file gets its real name only once complete and, when the source
 * gives a SHA-256 (Hugging Face's X-Linked-Etag for LFS files, or --sha256), verified.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { innermostMessage } from './error-message.js';
import { Progress } from './pull-progress.js';
import { defaultHubEndpoint, resolvePullSource, type PullSource } from './pull-source.js';

export interface PullArgs {
  argv: string[];
  env: Record<string, string | undefined>;
  stderr: (line: string) => void;
  /** Progress goes here; a terminal gets one line redrawn in place. */
  progress: { write: (text: string) => void; isTTY: boolean };
}

export const pullUsage = `sluice pull <owner>/<repo>/<file>.gguf | <url> [--dir DIR] [--sha256 HEX]
  Downloads a GGUF model (from Hugging Face, or any http(s) URL) into DIR (default ./models),
  the folder a \`kind: local\` provider serves. Run it again to resume an interrupted download.
  HF_TOKEN: sent to Hugging Face for gated models. HF_ENDPOINT: a Hugging Face mirror.`;

const maxRedirects = 8;

class PullError extends Error {}

export async function runPull(args: PullArgs): Promise<number> {
  const { values, positionals } = parseArgs({ args: args.argv, allowPositionals: true, options: { dir: { type: 'string' }, sha256: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help === true || positionals.length !== 1) {
    args.stderr(pullUsage);
    return values.help === true ? 0 : 2;
  }
  const hub = args.env.HF_ENDPOINT ?? defaultHubEndpoint;
  let source: PullSource;
  try {
    source = resolvePullSource(positionals[0]!, hub);
  } catch (error) {
    args.stderr(`sluice pull: ${(error as Error).message}`);
    return 2;
  }
  const wanted = values.sha256?.toLowerCase();
  if (wanted !== undefined && !/^[0-9a-f]{64}$/.test(wanted)) {
    args.stderr('sluice pull: --sha256 must be 64 hex digits');
    return 2;
  }
  const dir = resolve(values.dir ?? 'models');
  const target = join(dir, source.fileName);
  if (await exists(target)) {
    args.stderr(`sluice pull: ${target} is already there (delete it to download it again).`);
    return 0;
  }
  try {
    await mkdir(dir, { recursive: true });
    const sha = await download(source.url, `${target}.part`, { sha256: wanted, token: args.env.HF_TOKEN, hubOrigin: new URL(hub).origin, progress: args.progress });
    await rename(`${target}.part`, target);
    args.stderr(`Saved ${target}${sha === undefined ? ' (the source gave no checksum to verify)' : ` (sha256 ${sha} verified)`}`);
    return 0;
  } catch (error) {
    args.stderr(`sluice pull: ${error instanceof PullError ? error.message : cannotReach(source.url, target, error)}`);
    return 1;
  }
}

function cannotReach(url: string, target: string, error: unknown): string {
  const cause = innermostMessage(error);
  return `cannot download ${url}: ${cause}.\n` +
    `If this machine is offline, download the file on another machine and copy it to ${target}; ` +
    'Sluice serves every .gguf in that folder. Run the same command again to resume a download that was cut.';
}

interface DownloadOptions {
  sha256: string | undefined;
  /** HF_TOKEN: sent only to the hub's own origin, never to a CDN or another host. */
  token: string | undefined;
  hubOrigin: string;
  progress: PullArgs['progress'];
}

/** Downloads into `part`, resuming what is there; returns the verified SHA-256, if one was known. */
async function download(url: string, part: string, options: DownloadOptions): Promise<string | undefined> {
  let have = (await stat(part).catch(() => undefined))?.size ?? 0;
  const { response, linkedSha, linkedSize } = await request(url, have, options);
  const expected = options.sha256 ?? linkedSha;
  if (response.status === 416 && have > 0) {
    await response.body?.cancel();
    // "bytes */N": the part is whole when it holds exactly N bytes (the last run was cut after its
    // last byte); anything else is stale or too long, so it goes and the next run starts over.
    const size = Number(/^bytes \*\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1] ?? linkedSize ?? NaN);
    if (size === have) return verify(part, await hashOfFile(part), expected);
    await rm(part, { force: true });
    throw new PullError(`${url} has ${Number.isNaN(size) ? 'an unknown number of' : size} bytes, the partial download ${have}: it was deleted; run the command again`);
  }
  if (response.status === 206 && (!rangeStartsAt(response, have) || !sameTotal(response, linkedSize))) {
    await response.body?.cancel();
    // A changed file or a confused server: resuming would splice two versions together.
    await rm(part, { force: true });
    throw new PullError(`${url} answered the resume request with ${response.headers.get('content-range')}, not the rest of the same file: the partial download was deleted; run the command again`);
  }
  if (response.status === 200) have = 0; // no range support: start over
  else if (response.status !== 206) {
    await response.body?.cancel();
    const hint = response.status === 401 || response.status === 403 ? ' (a gated or private model: set HF_TOKEN to a token with access)' : '';
    throw new PullError(`${url} answered HTTP ${response.status}${hint}`);
  }
  const length = Number(response.headers.get('content-length') ?? NaN);
  const total = Number.isFinite(length) ? have + length : linkedSize;
  const hash = have > 0 ? await hashOfFile(part) : createHash('sha256');
  const file = await open(part, have > 0 ? 'a' : 'w');
  const progress = new Progress(options.progress, have, total);
  try {
    if (response.body === null) throw new PullError(`${url} sent no body`);
    for await (const piece of response.body) {
      const bytes = piece as Uint8Array;
      await file.write(bytes);
      hash.update(bytes);
      progress.add(bytes.length);
    }
  } catch (error) {
    if (error instanceof PullError) throw error;
    const cause = innermostMessage(error);
    const size = (await stat(part)).size;
    throw new PullError(`the download of ${url} was cut after ${size}${total === undefined ? '' : ` of ${total}`} bytes (${cause}); run the command again to resume`);
  } finally {
    await file.close();
    progress.end();
  }
  const size = (await stat(part)).size;
  if (total !== undefined && size !== total) throw new PullError(`${url} ended after ${size} of ${total} bytes; run the command again to resume`);
  return verify(part, hash, expected);
}

async function verify(part: string, hash: Hash, expected: string | undefined): Promise<string | undefined> {
  const actual = hash.digest('hex');
  if (expected === undefined) return undefined;
  if (actual === expected) return actual;
  // A corrupt part must not be resumed: the next run starts from zero.
  await rm(part, { force: true });
  throw new PullError(`checksum mismatch: expected sha256 ${expected}, got ${actual}; the download was deleted`);
}

/** GET with redirects followed by hand: Hugging Face puts the file's SHA-256 on its own answer, not the CDN's. */
async function request(url: string, from: number, options: DownloadOptions): Promise<{ response: Response; linkedSha: string | undefined; linkedSize: number | undefined }> {
  let current = url;
  let linkedSha: string | undefined;
  let linkedSize: number | undefined;
  for (let hop = 0; hop <= maxRedirects; hop++) {
    const headers: Record<string, string> = { 'user-agent': 'sluice-pull' };
    if (from > 0) headers.range = `bytes=${from}-`;
    // The token goes to the hub only (every hop on its origin), never to the CDN it redirects to.
    if (options.token !== undefined && new URL(current).origin === options.hubOrigin) headers.authorization = `Bearer ${options.token}`;
    const response = await fetch(current, { headers, redirect: 'manual' });
    linkedSha ??= shaOf(response.headers.get('x-linked-etag')) ?? shaOf(response.headers.get('etag'));
    const size = Number(response.headers.get('x-linked-size') ?? NaN);
    if (linkedSize === undefined && Number.isFinite(size)) linkedSize = size;
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      await response.body?.cancel();
      current = new URL(location, current).toString();
      continue;
    }
    return { response, linkedSha, linkedSize };
  }
  throw new PullError(`${url} redirected more than ${maxRedirects} times`);
}

/** An ETag that is a SHA-256 (what Hugging Face gives LFS files); other ETags say nothing about content. */
function shaOf(etag: string | null): string | undefined {
  const value = etag?.replace(/^W\//, '').replaceAll('"', '').toLowerCase();
  return value !== undefined && /^[0-9a-f]{64}$/.test(value) ? value : undefined;
}

/** The total after "/" in Content-Range agrees with the size the hub announced (when both are known). */
function sameTotal(response: Response, linkedSize: number | undefined): boolean {
  const total = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1];
  return total === undefined || linkedSize === undefined || Number(total) === linkedSize;
}

function rangeStartsAt(response: Response, from: number): boolean {
  const match = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '');
  return match !== null && Number(match[1]) === from;
}

async function hashOfFile(path: string): Promise<Hash> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(path)) hash.update(piece as Buffer);
  return hash;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}
