/**
 * The scripted scenarios of the translation matrix, in neutral terms: what the upstream "says"
 * (text, reasoning, tool calls, finish, usage, errors). Each upstream kind renders a scenario in
 * its own exact wire format (scripted-anthropic.ts, scripted-gemini.ts, scripted-openai.ts); the
 * matrix tests then derive what each client must see from the same data, so a test never
 * depends on how Sluice happens to translate.
 *
 * A scenario is chosen by the upstream model name: route `up/<scenario>` makes the upstream
 * receive `<scenario>` as its model (in the body, or in the Gemini URL path).
 */

export type UpstreamKind = 'openai' | 'anthropic' | 'gemini';
export const upstreamKinds: UpstreamKind[] = ['openai', 'anthropic', 'gemini'];

/** Neutral usage: `input` counts every prompt token, cached ones included (OpenAI's convention). */
export interface ScenarioUsage {
  input: number;
  /** Prompt tokens read from cache (a subset of input). */
  cacheRead: number;
  /** Prompt tokens written to cache (a subset of input; only Anthropic reports it). */
  cacheWrite: number;
  /** All generated tokens, reasoning included. */
  output: number;
  /** Reasoning tokens (a subset of output). */
  reasoning: number;
}

export interface ScenarioTool {
  name: string;
  args: Record<string, unknown>;
  /** The upstream's own call id (Anthropic, OpenAI); Gemini sends none. */
  anthropicId: string;
  openaiId: string;
}

export type NeutralFinish = 'stop' | 'length' | 'tool_calls';

export interface ContentScenario {
  kind: 'content';
  /** Reasoning streamed in these pieces (thinking / reasoning_content / thought parts). */
  reasoning?: string[];
  /** Text streamed in these pieces. */
  text?: string[];
  tools?: ScenarioTool[];
  /** Gemini only: every functionCall part in its own chunk (default: all in one chunk). */
  geminiSplitCalls?: boolean;
  /** Anthropic only: a redacted_thinking block (opaque data, no deltas) before the text. */
  anthropicRedactedThinking?: string;
  /** OpenAI-compatible only: the delta field reasoning streams in (vLLM renamed it to `reasoning`). */
  openaiReasoningField?: 'reasoning_content' | 'reasoning';
  finish: NeutralFinish;
  usage: ScenarioUsage;
  /** Before the first content, the upstream sends its head (and Anthropic its message_start) and then waits this long. */
  firstTokenDelayMs?: number;
}

export interface HttpErrorScenario {
  kind: 'http-error';
  /** Anthropic answers this status; OpenAI and Gemini answer `otherStatus` when set. */
  status: number;
  otherStatus?: number;
}

export interface StreamErrorScenario {
  kind: 'stream-error';
  /** Text sent before the in-band error ([] = error before the first token). */
  textBefore: string[];
}

export type Scenario = ContentScenario | HttpErrorScenario | StreamErrorScenario;

export const weatherTool: ScenarioTool = {
  name: 'get_weather',
  args: { city: 'Paris', unit: 'celsius' },
  anthropicId: 'toolu_01WeatherParis7Qx',
  openaiId: 'call_weather_Hjeq01',
};

export const timeTool: ScenarioTool = {
  name: 'get_time',
  args: { timezone: 'Europe/Paris', format: '24h' },
  anthropicId: 'toolu_02TimeParis9Zk',
  openaiId: 'call_time_Kp3v02',
};

export const scenarios = {
  text: {
    kind: 'content',
    text: ['Hello', ' from the', ' scripted', ' upstream.'],
    finish: 'stop',
    usage: { input: 12, cacheRead: 0, cacheWrite: 0, output: 6, reasoning: 0 },
  },
  'parallel-tools': {
    kind: 'content',
    text: ["I'll check", ' both.'],
    tools: [weatherTool, timeTool],
    finish: 'tool_calls',
    usage: { input: 80, cacheRead: 0, cacheWrite: 0, output: 40, reasoning: 0 },
  },
  /** The same as parallel-tools; Gemini sends each functionCall part in its own chunk. */
  'parallel-tools-split': {
    kind: 'content',
    text: ["I'll check", ' both.'],
    tools: [weatherTool, timeTool],
    geminiSplitCalls: true,
    finish: 'tool_calls',
    usage: { input: 80, cacheRead: 0, cacheWrite: 0, output: 40, reasoning: 0 },
  },
  'thinking-tool': {
    kind: 'content',
    reasoning: ['The user wants', ' the weather in Paris.', ' I should call get_weather.'],
    tools: [weatherTool],
    finish: 'tool_calls',
    usage: { input: 50, cacheRead: 0, cacheWrite: 0, output: 60, reasoning: 25 },
  },
  /** The same as thinking-tool; an OpenAI-compatible upstream streams `reasoning` (vLLM), not `reasoning_content`. */
  'thinking-tool-reasoning-field': {
    kind: 'content',
    reasoning: ['The user wants', ' the weather in Paris.', ' I should call get_weather.'],
    tools: [weatherTool],
    openaiReasoningField: 'reasoning',
    finish: 'tool_calls',
    usage: { input: 50, cacheRead: 0, cacheWrite: 0, output: 60, reasoning: 25 },
  },
  /** Anthropic: redacted_thinking (opaque, encrypted) then text; elsewhere plain text. */
  'redacted-thinking': {
    kind: 'content',
    anthropicRedactedThinking: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP+Redacted+Opaque/Data==',
    text: ['Answer', ' after redacted thinking.'],
    finish: 'stop',
    usage: { input: 30, cacheRead: 0, cacheWrite: 0, output: 40, reasoning: 0 },
  },
  length: {
    kind: 'content',
    text: ['This answer', ' is cut'],
    finish: 'length',
    usage: { input: 9, cacheRead: 0, cacheWrite: 0, output: 5, reasoning: 0 },
  },
  /** Anthropic: input 10 + cache_read 100 + cache_creation 5. OpenAI / Gemini: prompt 115 with 100 cached. */
  'cache-usage': {
    kind: 'content',
    text: ['Cached', ' answer.'],
    finish: 'stop',
    usage: { input: 115, cacheRead: 100, cacheWrite: 5, output: 20, reasoning: 0 },
  },
  /** The upstream accepts the request, then thinks in silence before its first token. */
  'slow-text': {
    kind: 'content',
    text: ['Worth', ' the wait.'],
    finish: 'stop',
    usage: { input: 7, cacheRead: 0, cacheWrite: 0, output: 4, reasoning: 0 },
    firstTokenDelayMs: 900,
  },
  'http-429': { kind: 'http-error', status: 429 },
  'http-500': { kind: 'http-error', status: 500 },
  /** Anthropic 529 overloaded_error; OpenAI-compatible and Gemini 503. */
  'http-overloaded': { kind: 'http-error', status: 529, otherStatus: 503 },
  'error-before-content': { kind: 'stream-error', textBefore: [] },
  'error-after-content': { kind: 'stream-error', textBefore: ['Partial', ' answer'] },
} satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof scenarios;

export function scenarioByModel(model: string): { name: ScenarioName; scenario: Scenario } | undefined {
  return Object.hasOwn(scenarios, model) ? { name: model as ScenarioName, scenario: scenarios[model as ScenarioName] } : undefined;
}

/** The scenarios every cell of the matrix runs (parallel-tools-split only differs for Gemini). */
export const contentScenarios: ScenarioName[] = ['text', 'parallel-tools', 'thinking-tool', 'length', 'cache-usage'];
export const httpErrorScenarios: ScenarioName[] = ['http-429', 'http-500', 'http-overloaded'];

/** The usage an upstream of this kind can express (only Anthropic reports cache writes). */
export function expressibleUsage(usage: ScenarioUsage, kind: UpstreamKind): ScenarioUsage {
  return kind === 'anthropic' ? usage : { ...usage, cacheWrite: 0 };
}

/** The status the upstream of this kind answers for an HTTP error scenario. */
export function httpStatusFor(scenario: HttpErrorScenario, kind: UpstreamKind): number {
  return kind === 'anthropic' ? scenario.status : (scenario.otherStatus ?? scenario.status);
}

export const join = (pieces: string[] | undefined): string => (pieces ?? []).join('');

/** Splits a string into pieces of `size` characters (arguments streamed in fragments). */
export function fragments(text: string, size = 7): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** The signatures each family signs its reasoning with (opaque, base64-like, with + / =). */
export const anthropicSignature = 'EqQBCkYIBxgCKkB0c2lnbmF0dXJlLWJ5dGVzLWV4YWN0/+Zz9Q==';
export const geminiThoughtSignature = 'CiQB0e2Kb2dlbWluaS1zaWduYXR1cmUtb3BhcXVl+/x7Ag==';

export const upstreamKeys: Record<UpstreamKind, string> = {
  openai: 'sk-upstream-openai-1',
  anthropic: 'sk-ant-upstream-1',
  gemini: 'gm-upstream-key-1',
};
