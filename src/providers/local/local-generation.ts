/**
 * One chat completion on one sequence of a local model, with node-llama-cpp's LlamaChat: text as
 * it is decoded, tool calls parsed by the chat wrapper, token counts from the model's own
 * tokenizer (the rendered prompt, and every generated token).
 */
import type { ChatHistoryItem, ChatModelFunctions, LlamaContextSequence, Token } from 'node-llama-cpp';
import type { LocalChatRequest } from './chat-request.js';
import type { LocalModel } from './local-model.js';
import type { LocalFinish, LocalToolCall, LocalUsage } from './openai-output.js';

export interface GenerationResult {
  text: string;
  calls: LocalToolCall[];
  /** undefined when generation was stopped (client gone, timeout): no finish to report. */
  finish: LocalFinish | undefined;
  usage: LocalUsage;
}

export interface GenerationHooks {
  /** From countPromptTokens, computed before the answer's head was sent. */
  promptTokens: number;
  onText(text: string): void;
  /** Stops generation; what was generated so far is still returned. */
  signal: AbortSignal;
}

export async function generate(model: LocalModel, sequence: LlamaContextSequence, request: LocalChatRequest, hooks: GenerationHooks): Promise<GenerationResult> {
  const { history, functions } = llamaShapes(request);
  const promptTokens = hooks.promptTokens;
  let completionTokens = 0;
  // The meter also counts what onToken does not report (function-call and thought tokens).
  const outputBefore = sequence.tokenMeter.usedOutputTokens;
  const chat = new model.library.LlamaChat({ contextSequence: sequence, chatWrapper: model.chatWrapper });
  try {
    const result = await chat.generateResponse(history, {
      ...(functions === undefined ? {} : { functions }),
      ...(request.maxTokens === undefined ? {} : { maxTokens: request.maxTokens }),
      // OpenAI's and Anthropic's default is 1; node-llama-cpp's is 0 (greedy).
      temperature: request.temperature ?? 1,
      ...(request.topP === undefined ? {} : { topP: request.topP }),
      ...(request.seed === undefined ? {} : { seed: request.seed }),
      ...(request.stop.length === 0 ? {} : { customStopTriggers: request.stop }),
      signal: hooks.signal,
      stopOnAbortSignal: true,
      onToken: (tokens: Token[]) => { completionTokens += tokens.length; },
      onTextChunk: (text: string) => { if (text !== '') hooks.onText(text); },
    });
    const calls = (result.functionCalls ?? []).map((call) => ({ name: call.functionName, params: call.params }));
    completionTokens = Math.max(completionTokens, sequence.tokenMeter.usedOutputTokens - outputBefore);
    return { text: result.response, calls, finish: finishOf(result.metadata.stopReason, calls.length), usage: { promptTokens, completionTokens } };
  } finally {
    chat.dispose();
  }
}

function finishOf(stopReason: string, calls: number): LocalFinish | undefined {
  if (calls > 0 || stopReason === 'functionCalls') return 'tool_calls';
  if (stopReason === 'maxTokens') return 'length';
  if (stopReason === 'abort') return undefined;
  return 'stop';
}

/** The prompt as the chat template renders it (function docs included), in the model's tokens. */
export function countPromptTokens(model: LocalModel, request: LocalChatRequest): number {
  const { history, functions } = llamaShapes(request);
  const { contextText } = model.chatWrapper.generateContextState({
    chatHistory: [...history, { type: 'model', response: [] }],
    ...(functions === undefined ? {} : { availableFunctions: functions, documentFunctionParams: true }),
  });
  return contextText.tokenize(model.model.tokenizer).length;
}

/**
 * Our history and function shapes are node-llama-cpp's (chat-request.ts mirrors them); its
 * JSON-schema type for params is stricter than any JSON object, and a schema it cannot turn into
 * a grammar is reported as an error when generation starts.
 */
function llamaShapes(request: LocalChatRequest): { history: ChatHistoryItem[]; functions: ChatModelFunctions | undefined } {
  return { history: request.history as ChatHistoryItem[], functions: request.functions as ChatModelFunctions | undefined };
}
