import type OpenAI from 'openai';

/**
 * A parsed chunk as the tests poke into it: vendor fields the SDK's types do not know are read
 * freely here, so it is deliberately loose (test code only).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ChunkJson = Record<string, any>;

/**
 * Streams a chat completion through the official SDK's raw iteration and collects every chunk;
 * `onChunk` sees each one as it arrives. Aborts after `timeoutMs` so a broken stream fails the
 * test instead of hanging it.
 */
export async function sdkChunks(client: OpenAI, body: object, onChunk?: (chunk: ChunkJson) => void, timeoutMs = 10_000): Promise<ChunkJson[]> {
  const params = { ...(body as OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming), stream: true as const };
  const stream = await client.chat.completions.create(params, { signal: AbortSignal.timeout(timeoutMs) });
  const out: ChunkJson[] = [];
  for await (const chunk of stream) {
    const json = chunk as unknown as ChunkJson;
    out.push(json);
    onChunk?.(json);
  }
  return out;
}
