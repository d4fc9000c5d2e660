/**
 * Tiny llama-architecture GGUF models for tests, generated at test time (no weights in git, no
 * downloads). node-llama-cpp loads them through its real code path: tokenizer, chat template,
 * sampling, streaming, aborts, function calling.
 *
 * - script: answers exactly `chunks` (one token each), then <|im_end|>, whatever the prompt and
 *   the temperature. Attention and FFN weights are zero, so the next token depends only on the
 *   current one; embeddings are one-hot "states" and output.weight maps each state to the next
 *   chunk with a logit of ~80. Every token outside the script is state 0, whose successor is the
 *   first chunk (the prompt always ends in a non-script token: "assistant\n").
 * - random: seeded random weights, so real compute and deterministic gibberish under greedy
 *   sampling. Hidden dimension 0 is held constant through every layer (the rows writing into it
 *   are zero), and control, byte and unknown tokens read it with a weight of -1000: they never
 *   win, so the text is printable ASCII and never ends before max_tokens.
 */
import { encodeGguf, type MetadataValue, type Tensor } from './gguf-writer.js';

export type TinyModelSpec =
  | { mode: 'script'; chunks: string[]; name?: string }
  | { mode: 'random'; seed?: number; name?: string };

const shape = { layers: 2, embd: 64, heads: 4, ff: 128, context: 4096 };

const chatMlTemplate =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const tokenType = { normal: 1, unknown: 2, control: 3, byte: 6 };
const imEnd = 4;

interface Vocab {
  tokens: string[];
  types: number[];
}

/** Specials, 256 byte-fallback tokens, ▁ and printable ASCII, then `extra` (spaces as ▁). */
function buildVocab(extra: string[]): Vocab {
  const tokens = ['<unk>', '<s>', '</s>', '<|im_start|>', '<|im_end|>'];
  const types = [tokenType.unknown, tokenType.control, tokenType.control, tokenType.control, tokenType.control];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(tokenType.byte);
  }
  tokens.push('▁');
  types.push(tokenType.normal);
  for (let c = 0x21; c <= 0x7e; c++) {
    tokens.push(String.fromCharCode(c));
    types.push(tokenType.normal);
  }
  for (const text of extra) {
    const piece = text.replaceAll(' ', '▁');
    if (tokens.includes(piece)) continue;
    tokens.push(piece);
    types.push(tokenType.normal);
  }
  return { tokens, types };
}

function tokenId(vocab: Vocab, text: string): number {
  const id = vocab.tokens.indexOf(text.replaceAll(' ', '▁'));
  if (id === -1) throw new Error(`no token for ${JSON.stringify(text)}`);
  return id;
}

/** Seeded PRNG (mulberry32): the same seed gives the same file, byte for byte. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function filled(length: number, value: number): Float32Array {
  return new Float32Array(length).fill(value);
}

function layerTensors(layer: number, weights: (rows: number, cols: number) => Float32Array): Tensor[] {
  const { embd, ff } = shape;
  const at = (name: string): string => `blk.${layer}.${name}.weight`;
  return [
    { name: at('attn_norm'), dims: [embd], data: filled(embd, 1) },
    { name: at('attn_q'), dims: [embd, embd], data: weights(embd, embd) },
    { name: at('attn_k'), dims: [embd, embd], data: weights(embd, embd) },
    { name: at('attn_v'), dims: [embd, embd], data: weights(embd, embd) },
    { name: at('attn_output'), dims: [embd, embd], data: weights(embd, embd) },
    { name: at('ffn_norm'), dims: [embd], data: filled(embd, 1) },
    { name: at('ffn_gate'), dims: [embd, ff], data: weights(ff, embd) },
    { name: at('ffn_down'), dims: [ff, embd], data: weights(embd, ff) },
    { name: at('ffn_up'), dims: [embd, ff], data: weights(ff, embd) },
  ];
}

/** Script model tensors: one-hot states, zero layers, output rows pointing to each successor. */
function scriptTensors(vocab: Vocab, chunks: string[]): Tensor[] {
  const { embd, layers } = shape;
  const ids = chunks.map((chunk) => tokenId(vocab, chunk));
  if (new Set(ids).size !== ids.length) throw new Error('every script chunk must be a distinct token (glue repeats to the chunk before)');
  if (ids.length + 1 > embd) throw new Error(`at most ${embd - 1} chunks`);
  const n = vocab.tokens.length;
  const state = new Map(ids.map((id, i) => [id, i + 1]));
  const embedding = new Float32Array(embd * n);
  for (let t = 0; t < n; t++) embedding[t * embd + (state.get(t) ?? 0)] = 1;
  // After RMS norm a one-hot vector holds sqrt(embd) at its state.
  const weight = 80 / Math.sqrt(embd);
  const output = new Float32Array(embd * n);
  const successors = [...ids, imEnd];
  for (let s = 0; s < successors.length; s++) output[successors[s]! * embd + s] = weight;
  const zeros = (rows: number, cols: number): Float32Array => new Float32Array(rows * cols);
  return [
    { name: 'token_embd.weight', dims: [embd, n], data: embedding },
    ...Array.from({ length: layers }, (_, layer) => layerTensors(layer, zeros)).flat(),
    { name: 'output_norm.weight', dims: [embd], data: filled(embd, 1) },
    { name: 'output.weight', dims: [embd, n], data: output },
  ];
}

/** Random model tensors; dimension 0 carries a constant that keeps special tokens out. */
function randomTensors(vocab: Vocab, seed: number): Tensor[] {
  const { embd, layers } = shape;
  const next = random(seed);
  const n = vocab.tokens.length;
  const uniform = (count: number, scale: number): Float32Array => Float32Array.from({ length: count }, () => (next() * 2 - 1) * scale);
  const embedding = uniform(embd * n, 1);
  for (let t = 0; t < n; t++) embedding[t * embd] = 1;
  // Rows (output dimensions) contiguous: zeroing row 0 keeps dimension 0 out of every residual write.
  const weights = (rows: number, cols: number): Float32Array => {
    const data = uniform(rows * cols, 1 / Math.sqrt(cols));
    if (rows === embd) data.fill(0, 0, cols);
    return data;
  };
  const output = uniform(embd * n, 1);
  for (let t = 0; t < n; t++) output[t * embd] = vocab.types[t] === tokenType.normal ? 0 : -1000;
  return [
    { name: 'token_embd.weight', dims: [embd, n], data: embedding },
    ...Array.from({ length: layers }, (_, layer) => layerTensors(layer, weights)).flat(),
    { name: 'output_norm.weight', dims: [embd], data: filled(embd, 1) },
    { name: 'output.weight', dims: [embd, n], data: output },
  ];
}

/** A tiny model as GGUF bytes (~0.5 MB), the same bytes for the same spec. */
export function tinyModel(spec: TinyModelSpec): Buffer {
  const vocab = buildVocab(spec.mode === 'script' ? spec.chunks : []);
  const tensors = spec.mode === 'script' ? scriptTensors(vocab, spec.chunks) : randomTensors(vocab, spec.seed ?? 1);
  const { embd, heads, layers, ff, context } = shape;
  const metadata: Record<string, MetadataValue> = {
    'general.architecture': { type: 'string', value: 'llama' },
    'general.name': { type: 'string', value: spec.name ?? `tiny-${spec.mode}` },
    'llama.context_length': { type: 'u32', value: context },
    'llama.embedding_length': { type: 'u32', value: embd },
    'llama.block_count': { type: 'u32', value: layers },
    'llama.feed_forward_length': { type: 'u32', value: ff },
    'llama.attention.head_count': { type: 'u32', value: heads },
    'llama.attention.head_count_kv': { type: 'u32', value: heads },
    'llama.attention.layer_norm_rms_epsilon': { type: 'f32', value: 1e-5 },
    'llama.rope.dimension_count': { type: 'u32', value: embd / heads },
    'llama.vocab_size': { type: 'u32', value: vocab.tokens.length },
    'tokenizer.ggml.model': { type: 'string', value: 'llama' },
    'tokenizer.ggml.tokens': { type: 'strings', value: vocab.tokens },
    'tokenizer.ggml.scores': { type: 'f32s', value: vocab.tokens.map(() => 0) },
    'tokenizer.ggml.token_type': { type: 'i32s', value: vocab.types },
    'tokenizer.ggml.bos_token_id': { type: 'u32', value: 1 },
    'tokenizer.ggml.eos_token_id': { type: 'u32', value: 2 },
    'tokenizer.ggml.unknown_token_id': { type: 'u32', value: 0 },
    'tokenizer.ggml.eot_token_id': { type: 'u32', value: imEnd },
    'tokenizer.ggml.add_bos_token': { type: 'bool', value: true },
    'tokenizer.ggml.add_eos_token': { type: 'bool', value: false },
    'tokenizer.chat_template': { type: 'string', value: chatMlTemplate },
  };
  return encodeGguf(metadata, tensors);
}
