import { effortBudgets, type NeutralRequest, type ReasoningRequest } from '../../core/chat-request.js';
import { GatewayError } from '../../core/gateway-error.js';
import type { JsonObject } from '../../core/json.js';
import type { UpstreamTarget } from '../codec.js';
import { encodeContents } from './contents-encode.js';

/** GenerationConfig.stopSequences: "The set of character sequences (up to 5)". */
export const maxStopSequences = 5;

/**
 * The body of a Gemini `models/{model}:generateContent` or `:streamGenerateContent?alt=sse`
 * request (https://ai.google.dev/api/generate-content#request-body). The model is part of the
 * URL (see geminiPath), so `target` adds nothing to the body. What Gemini cannot express is a
 * 400 naming the neutral field.
 *
 * Fields with no Gemini counterpart, deliberately not sent:
 * - `parallelToolCalls`: Gemini has no switch; it decides itself whether calls run in parallel.
 *   It is a hint about client capacity, not a constraint on the answer's meaning, so no 400.
 * - `user`: the Gemini API has no end-user field (Vertex `labels` are for billing, not abuse).
 * - `includeUsage`: Gemini reports usageMetadata on every answer anyway.
 */
export function encodeGeminiRequest(request: NeutralRequest, _target: UpstreamTarget): string {
  const contents = encodeContents(request.messages);
  if (contents.length === 0) throw new GatewayError('invalid_request', 'The request has no message content Gemini can read.', { param: 'messages' });
  const body: JsonObject = { contents };
  const system = request.system.filter((part) => part.text !== '').map((part) => ({ text: part.text }));
  if (system.length > 0) body.systemInstruction = { parts: system };
  encodeTools(request, body);
  const generationConfig = encodeGenerationConfig(request);
  if (Object.keys(generationConfig).length > 0) body.generationConfig = generationConfig;
  try {
    return JSON.stringify(body);
  } catch (error) {
    // JSON.parse accepts any nesting depth; JSON.stringify recurses and overflows the stack.
    if (error instanceof RangeError) throw new GatewayError('invalid_request', 'The request body is nested too deeply to forward.');
    throw error;
  }
}

/**
 * Tools as functionDeclarations with `parametersJsonSchema`, not `parameters`: clients send full
 * JSON Schema (additionalProperties, anyOf, $ref, const...), which `parametersJsonSchema` takes
 * as is, while `parameters` is an OpenAPI 3.0 subset that rejects or drops such keywords
 * (https://ai.google.dev/api/caching#FunctionDeclaration; the two are mutually exclusive).
 * toolChoice -> toolConfig.functionCallingConfig: auto AUTO, none NONE, required ANY, a named
 * tool ANY restricted by allowedFunctionNames (https://ai.google.dev/gemini-api/docs/function-calling#function_calling_modes).
 */
function encodeTools(request: NeutralRequest, body: JsonObject): void {
  const choice = request.toolChoice;
  if (request.tools.length === 0) {
    if (choice?.type === 'required' || choice?.type === 'tool') {
      throw new GatewayError('invalid_request', 'tool_choice requires a tool call but the request defines no tools.', { param: 'toolChoice' });
    }
    return;
  }
  body.tools = [
    {
      functionDeclarations: request.tools.map((tool) => {
        const declaration: JsonObject = { name: tool.name };
        if (tool.description !== undefined && tool.description !== '') declaration.description = tool.description;
        declaration.parametersJsonSchema = tool.parameters;
        return declaration;
      }),
    },
  ];
  if (choice === undefined) return;
  let config: JsonObject;
  switch (choice.type) {
    case 'auto':
      config = { mode: 'AUTO' };
      break;
    case 'none':
      config = { mode: 'NONE' };
      break;
    case 'required':
      config = { mode: 'ANY' };
      break;
    case 'tool':
      if (!request.tools.some((tool) => tool.name === choice.name)) {
        throw new GatewayError('invalid_request', `tool_choice names '${choice.name}', which is not among the request's tools.`, { param: 'toolChoice' });
      }
      config = { mode: 'ANY', allowedFunctionNames: [choice.name] };
      break;
  }
  body.toolConfig = { functionCallingConfig: config };
}

/** https://ai.google.dev/api/generate-content#v1beta.GenerationConfig */
function encodeGenerationConfig(request: NeutralRequest): JsonObject {
  const config: JsonObject = {};
  if (request.maxTokens !== undefined) config.maxOutputTokens = request.maxTokens;
  if (request.temperature !== undefined) config.temperature = request.temperature;
  if (request.topP !== undefined) config.topP = request.topP;
  if (request.topK !== undefined) config.topK = request.topK;
  if (request.stopSequences.length > maxStopSequences) {
    throw new GatewayError('invalid_request', `Gemini accepts at most ${maxStopSequences} stop sequences; the request has ${request.stopSequences.length}.`, {
      param: 'stopSequences',
    });
  }
  if (request.stopSequences.length > 0) config.stopSequences = request.stopSequences;
  const format = request.responseFormat;
  if (format?.type === 'json_object') config.responseMimeType = 'application/json';
  if (format?.type === 'json_schema') {
    // responseJsonSchema for the same reason as parametersJsonSchema: the client's schema is JSON
    // Schema, responseSchema an OpenAPI subset. The schema's name, description and strict flag
    // have no field: Gemini always constrains the output to the schema it is given.
    config.responseMimeType = 'application/json';
    config.responseJsonSchema = format.schema;
  }
  if (request.reasoning !== undefined) config.thinkingConfig = thinkingConfig(request.reasoning);
  return config;
}

/**
 * https://ai.google.dev/gemini-api/docs/thinking: thinkingBudget, 0 turning thinking off where the
 * model allows it (a model that cannot stop thinking, such as Gemini 2.5 Pro, answers with its own
 * 400; Sluice does not quietly let it think). An effort becomes the budget of the shared
 * effortBudgets table: thinkingBudget is accepted by Gemini 2.5 and 3 alike, whereas thinkingLevel
 * exists only on Gemini 3 and cannot be sent together with a budget. includeThoughts makes Gemini
 * stream thought summaries, which become reasoning for the client.
 */
function thinkingConfig(reasoning: ReasoningRequest): JsonObject {
  switch (reasoning.type) {
    case 'disabled':
      return { thinkingBudget: 0 };
    case 'effort':
      return { thinkingBudget: effortBudgets[reasoning.effort], includeThoughts: true };
    case 'budget':
      return { thinkingBudget: reasoning.budgetTokens, includeThoughts: true };
  }
}
