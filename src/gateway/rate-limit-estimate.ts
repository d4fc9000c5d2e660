/**
 * The prompt size a TPM limit reserves, estimated from the raw request body: about four bytes a
 * token, as OpenAI's own limiter does ("based on the character count of your request"), without
 * the tokenizer (~60 MiB once, most of a millisecond per KiB, on every limited request, for a
 * number the settlement replaces with the real count anyway). One pass over the bytes.
 *
 * Inline files (base64 images, PDFs, audio) are the exception: a 1 MiB image is not 262k tokens,
 * and counting it so would refuse it as "too large" for any ordinary TPM. A long unbroken run of
 * base64 characters is one such file and counts as a fixed number of tokens, as the tokenizer
 * estimate does for an image (protocols/token-estimate.ts); the settlement corrects it.
 */

/** English text averages about four characters a token (OpenAI's rule of thumb). */
const BYTES_PER_TOKEN = 4;
/** Tokens counted for one inline file: a mid-size image, the tokenizer estimate's figure. */
export const TOKENS_PER_INLINE_FILE = 1600;
/** A run of base64 characters this long is a file: prose and code break runs far sooner (spaces, punctuation). */
const MIN_INLINE_FILE_BYTES = 1024;

/** Bytes that may appear inside a base64 or base64url payload in JSON (`\/` is an escaped '/'). */
const BASE64_BYTE = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_\\') BASE64_BYTE[c.charCodeAt(0)] = 1;

export function estimateBodyTokens(body: Uint8Array): number {
  let textBytes = 0;
  let files = 0;
  let run = 0;
  for (let i = 0; i < body.length; i++) {
    if (BASE64_BYTE[body[i] ?? 0] === 1) {
      run++;
      continue;
    }
    if (run >= MIN_INLINE_FILE_BYTES) files++;
    else textBytes += run;
    textBytes++;
    run = 0;
  }
  if (run >= MIN_INLINE_FILE_BYTES) files++;
  else textBytes += run;
  return Math.ceil(textBytes / BYTES_PER_TOKEN) + files * TOKENS_PER_INLINE_FILE;
}
