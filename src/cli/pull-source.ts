/**
 * What `sluice pull` was asked for: a Hugging Face file (`<owner>/<repo>/<path/to/file.gguf>`,
 * optionally `<owner>/<repo>@<revision>/...`) or a plain http(s) URL, as a download URL and the
 * file name it is saved under.
 */

export interface PullSource {
  url: string;
  fileName: string;
}

/** Where Hugging Face lives; HF_ENDPOINT (as in huggingface_hub) points at a mirror. */
export const defaultHubEndpoint = 'https://huggingface.co';

export function resolvePullSource(spec: string, hubEndpoint: string = defaultHubEndpoint): PullSource {
  if (/^https?:\/\//i.test(spec)) {
    const url = new URL(spec);
    const fileName = decodeURIComponent(url.pathname.split('/').pop() ?? '');
    if (!fileName.endsWith('.gguf')) throw new Error(`the URL must name a .gguf file: ${spec}`);
    // %2F or a backslash in the name would put the file outside the models folder.
    if (/[/\\]/.test(fileName) || fileName.startsWith('.')) throw new Error(`the file name in ${spec} is not a plain file name`);
    return { url: url.toString(), fileName };
  }
  const match = /^([\w.-]+)\/([\w.-]+)(?:@([\w./-]+?))?\/(.+\.gguf)$/.exec(spec);
  if (match === null) {
    throw new Error(`expected <owner>/<repo>/<file>.gguf (a Hugging Face file) or an http(s) URL, got ${JSON.stringify(spec)}`);
  }
  const [, owner, repo, revision, path] = match as unknown as [string, string, string, string | undefined, string];
  if (path.split('/').some((part) => part === '..' || part === '' || part.includes('\\'))) throw new Error(`bad file path in ${JSON.stringify(spec)}`);
  const encodedPath = path.split('/').map(encodeURIComponent).join('/');
  const base = hubEndpoint.replace(/\/+$/, '');
  return {
    url: `${base}/${owner}/${repo}/resolve/${encodeURIComponent(revision ?? 'main')}/${encodedPath}`,
    fileName: path.split('/').pop()!,
  };
}
