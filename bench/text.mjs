// text.mjs — the deterministic reply shared by upstream.mjs (which sends it) and load.mjs (which
// checks it). Content chunk i is pieceAt(i); the whole reply for n chunks is replyText(n); the usage
// reported for a prompt of c characters is tokensForChars(c) prompt tokens and n completion tokens.
//
// The vocabulary deliberately holds multi-byte UTF-8 (é, —, an emoji) and characters that JSON must
// escape (", \n, \t, \\): a gateway that splits a code point across reads, or re-serialises a chunk
// carelessly, then fails the text check instead of silently passing.

const VOCAB = [
  ' Water', ' moves', ' through', ' the', ' sluice', ',', ' one', ' gate', ' at', ' a', ' time', '.',
  ' café', ' —', ' naïve', ' “curly”', ' "quoted"', ' 🙂', '\n', '\tindent', ' back\\slash', ' end', '!', ' 42',
];

// Stride 5 is coprime with the vocabulary size, so consecutive chunks differ and every word appears.
export function pieceAt(i) {
  return VOCAB[(i * 5) % VOCAB.length];
}

export function replyText(n) {
  let s = '';
  for (let i = 0; i < n; i++) s += pieceAt(i);
  return s;
}

// The token count both sides agree on for a prompt of `chars` characters (about 4 per token). The
// upstream reports it as prompt_tokens (OpenAI) or input_tokens (Anthropic); load.mjs expects it back.
export function tokensForChars(chars) {
  return Math.max(1, Math.ceil(chars / 4));
}
