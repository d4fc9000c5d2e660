import type { Usage } from '../../core/usage.js';
import { isObject, type JsonObject } from '../../core/json.js';
import { newToolCallId } from './tool-call-id.js';
import { usageFromOpenAi } from './usage.js';

export interface NormalizedCompletion {
  /** The body to send: the upstream's own bytes when nothing needed a change. */
  text: string;
  usage: Usage | undefined;
  finishReasons: string[];
}

/**
 * The non-stream counterpart of OpenAiStreamNormalizer: `reasoning` becomes `reasoning_content`,
 * tool calls get the `type`/`id` clients require. Everything else passes through.
 */
export function normalizeCompletion(completion: JsonObject, raw: string): NormalizedCompletion {
  let dirty = false;
  const finishReasons: string[] = [];
  if (Array.isArray(completion.choices)) {
    for (const choice of completion.choices) {
      if (!isObject(choice)) continue;
      finishReasons.push(typeof choice.finish_reason === 'string' ? choice.finish_reason : 'incomplete');
      const message = choice.message;
      if (!isObject(message)) continue;
      if ('reasoning' in message) {
        if (message.reasoning_content === undefined || message.reasoning_content === null) message.reasoning_content = message.reasoning;
        delete message.reasoning;
        dirty = true;
      }
      if (Array.isArray(message.tool_calls) && fillToolCalls(message.tool_calls)) dirty = true;
    }
  }
  return { text: dirty ? JSON.stringify(completion) : raw, usage: usageFromOpenAi(completion.usage), finishReasons };
}

function fillToolCalls(calls: unknown[]): boolean {
  let changed = false;
  for (const call of calls) {
    if (!isObject(call)) continue;
    if (call.type === undefined) {
      call.type = 'function';
      changed = true;
    }
    if (typeof call.id !== 'string' || call.id === '') {
      call.id = newToolCallId();
      changed = true;
    }
  }
  return changed;
}
