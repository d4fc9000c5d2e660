/**
 * The neutral chat request every translated exchange goes through: an OpenAI or Anthropic client
 * request is decoded into this, and an upstream request (OpenAI-compatible, Anthropic, Gemini) is
 * encoded from it. Block-structured like Anthropic's Messages API, the most expressive of the
 * three. Same-protocol exchanges never use it: their bodies pass through untouched.
 */

/** Which provider family produced a reasoning signature: signatures only travel within a family. */
export type ProviderFamily = 'openai' | 'anthropic' | 'gemini';

export interface ReasoningSignature {
  family: ProviderFamily;
  /** Opaque, byte-exact. */
  value: string;
}

export interface TextPart {
  type: 'text';
  text: string;
}

export type ImageSource = { kind: 'base64'; mediaType: string; data: string } | { kind: 'url'; url: string };

export interface ImagePart {
  type: 'image';
  source: ImageSource;
}

export interface ToolCallPart {
  type: 'tool-call';
  id: string;
  name: string;
  /** The arguments as JSON text, exactly as the model produced them. */
  arguments: string;
  /** Gemini attaches thought signatures to function calls. */
  signature?: ReasoningSignature;
}

export interface ToolResultPart {
  type: 'tool-result';
  toolCallId: string;
  /** Tool name when the client said it (Gemini's functionResponse needs one). */
  name?: string;
  content: Array<TextPart | ImagePart>;
  isError?: boolean;
}

export interface ReasoningPart {
  type: 'reasoning';
  text: string;
  signature?: ReasoningSignature;
}

/** Anthropic's encrypted thinking: opaque, only meaningful to its own family. */
export interface RedactedReasoningPart {
  type: 'redacted-reasoning';
  data: string;
  family: ProviderFamily;
}

export type UserPart = TextPart | ImagePart | ToolResultPart;
export type AssistantPart = TextPart | ToolCallPart | ReasoningPart | RedactedReasoningPart;

export type ChatMessage = { role: 'user'; content: UserPart[] } | { role: 'assistant'; content: AssistantPart[] };

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
}

export type ToolChoice =
  | { type: 'auto' }
  | { type: 'none' }
  /** The model must call some tool. */
  | { type: 'required' }
  | { type: 'tool'; name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict?: boolean; description?: string };

export type ReasoningEffort = 'minimal' | 'low' | 'medium' | 'high';

/** What the client asked of reasoning; each codec maps it to its protocol's knob. */
export type ReasoningRequest =
  | { type: 'disabled' }
  /** OpenAI `reasoning_effort`. */
  | { type: 'effort'; effort: ReasoningEffort }
  /** Anthropic `thinking.budget_tokens`. */
  | { type: 'budget'; budgetTokens: number };

export interface NeutralRequest {
  /** The public model name the client asked for. */
  model: string;
  /** System prompt blocks, in order (OpenAI system/developer messages, Anthropic `system`). */
  system: TextPart[];
  messages: ChatMessage[];
  tools: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  stopSequences: string[];
  responseFormat?: ResponseFormat;
  reasoning?: ReasoningRequest;
  stream: boolean;
  /** An OpenAI client asked for the usage chunk (`stream_options.include_usage`). */
  includeUsage: boolean;
  /** End-user id for abuse tracking (OpenAI `user`, Anthropic `metadata.user_id`). */
  user?: string;
}

/** Budget tokens for an effort level, and back: the one table both directions use. */
export const effortBudgets: Record<ReasoningEffort, number> = { minimal: 1024, low: 2048, medium: 8192, high: 24576 };

export function effortForBudget(budgetTokens: number): ReasoningEffort {
  if (budgetTokens <= effortBudgets.minimal) return 'minimal';
  if (budgetTokens <= effortBudgets.low) return 'low';
  if (budgetTokens <= effortBudgets.medium) return 'medium';
  return 'high';
}
