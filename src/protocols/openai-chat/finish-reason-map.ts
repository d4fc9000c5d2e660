import type { FinishReason } from '../../core/finish-reason.js';

/**
 * OpenAI finish_reason -> Sluice. Several OpenAI-compatible servers (older vLLM, Ollama) say
 * `stop` even when the turn ends in tool calls; a client on another protocol decides whether to
 * run tools from the reason (Anthropic `tool_use`), so a turn that called tools is `tool-calls`.
 */
export function finishReasonFromOpenAi(value: string, calledTools: boolean): FinishReason {
  switch (value) {
    case 'stop':
      return calledTools ? 'tool-calls' : 'stop';
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool-calls';
    case 'content_filter':
      return 'content-filter';
    default:
      return 'other';
  }
}

/**
 * Sluice -> OpenAI finish_reason: OpenAI has only stop, length, tool_calls and content_filter,
 * and its SDKs expect `tool_calls` whenever the answer holds tool calls.
 */
export function finishReasonToOpenAi(reason: FinishReason, calledTools: boolean): string {
  switch (reason) {
    case 'length':
    case 'context-exceeded':
      return 'length';
    case 'tool-calls':
      return 'tool_calls';
    case 'content-filter':
    case 'refusal':
      return 'content_filter';
    default: // stop, stop-sequence, pause, other
      return calledTools ? 'tool_calls' : 'stop';
  }
}
