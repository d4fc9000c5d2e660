import type { Usage } from '../core/usage.js';
import { countTextTokens } from '../protocols/token-estimate.js';
import type { RelayResult } from './attempt-result.js';

/**
 * The usage a request is accounted with. Reported usage wins. A stream that ended without its
 * final usage (the client left, the upstream broke mid-answer, or it never reports usage) is
 * settled with what was generated, counted with a real tokenizer, and the prompt as reported
 * (Anthropic and Gemini say it early) or estimated. A request that generated nothing keeps
 * whatever was reported, or none: it is not billed for output it never produced.
 */
export async function settleUsage(result: RelayResult | undefined, estimatePrompt: () => Promise<number>): Promise<Usage | undefined> {
  if (result === undefined) return undefined;
  const reported = result.usage;
  if (reported !== undefined && (result.usageFinal || (result.outcome === 'ok' && result.generated === undefined))) return reported;
  const generated = result.generated?.() ?? { text: '', scale: 1 };
  if (generated.text === '' && result.outcome !== 'ok') {
    // Nothing reached the client: no output is billed, whatever placeholder the upstream sent
    // (Anthropic's message_start says output_tokens: 1 before any token exists).
    return reported === undefined ? undefined : { ...reported, output: 0, reasoning: 0 };
  }
  const counted = Math.round((await countTextTokens(generated.text)) * generated.scale);
  const output = Math.max(reported?.output ?? 0, counted);
  const input = reported !== undefined && reported.input > 0 ? reported.input : await estimatePrompt();
  return {
    input,
    cacheRead: reported?.cacheRead ?? 0,
    cacheWrite: reported?.cacheWrite ?? 0,
    output,
    reasoning: Math.min(output, reported?.reasoning ?? 0),
    source: 'estimated',
  };
}
