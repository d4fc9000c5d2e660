/**
 * Checks a raw OpenAI Chat Completions stream as a client receives it, beyond what the SDK
 * enforces (shared/reference/wire-formats.md section 6). Returns the violations found, the parsed
 * chunks, and the assembled text, reasoning and tool calls.
 */
export interface WireReport {
  violations: string[];
  chunks: Record<string, unknown>[];
  /** Per choice index. */
  text: Map<number, string>;
  reasoning: Map<number, string>;
  toolCalls: Map<number, { id: string; name: string; arguments: string }[]>;
  finishReasons: Map<number, string>;
  usage: Record<string, unknown> | undefined;
  endedWithDone: boolean;
  errorFrame: Record<string, unknown> | undefined;
}

export interface WireCheckOptions {
  /** The client asked for usage: `usage: null` on every chunk, and a final usage chunk... */
  includeUsage: boolean;
  /** ...unless this is false (the upstream reported none). Defaults to includeUsage. */
  requireUsageChunk?: boolean;
  /** The stream must end with an error frame and no [DONE]. */
  expectError?: boolean;
}

export function checkOpenAiStream(raw: string, options: WireCheckOptions): WireReport {
  const report: WireReport = {
    violations: [], chunks: [], text: new Map(), reasoning: new Map(), toolCalls: new Map(),
    finishReasons: new Map(), usage: undefined, endedWithDone: false, errorFrame: undefined,
  };
  const v = (message: string): void => void report.violations.push(message);
  if (!raw.endsWith('\n\n')) v('stream does not end with a blank line');
  const events = raw.split('\n\n').filter((e) => e !== '');
  const roleSeen = new Set<number>();
  let firstEnvelope: { id: unknown; created: unknown; model: unknown } | undefined;
  let usageChunkIndex = -1;
  events.forEach((event, position) => {
    const lines = event.split('\n');
    if (lines.every((l) => l.startsWith(':'))) return; // comment-only block (keep-alive)
    const dataLines = lines.filter((l) => !l.startsWith(':'));
    for (const line of dataLines) if (!line.startsWith('data: ')) v(`event ${position}: non-data line ${JSON.stringify(line.slice(0, 40))}`);
    const data = dataLines.map((l) => l.slice(6)).join('\n');
    if (report.endedWithDone) v(`event ${position}: data after [DONE]`);
    if (report.errorFrame) v(`event ${position}: data after the error frame`);
    if (data === '[DONE]') {
      report.endedWithDone = true;
      return;
    }
    const chunk = JSON.parse(data) as Record<string, unknown>;
    if (chunk.error !== undefined) {
      report.errorFrame = chunk;
      return;
    }
    report.chunks.push(chunk);
    if (firstEnvelope === undefined) firstEnvelope = { id: chunk.id, created: chunk.created, model: chunk.model };
    else if (chunk.id !== firstEnvelope.id || chunk.created !== firstEnvelope.created || chunk.model !== firstEnvelope.model) {
      v(`event ${position}: id/created/model differ from the first chunk`);
    }
    if (chunk.object !== 'chat.completion.chunk') v(`event ${position}: object is ${String(chunk.object)}`);
    if (!Array.isArray(chunk.choices)) {
      v(`event ${position}: choices is not an array`);
      return;
    }
    if (options.includeUsage) {
      if (chunk.choices.length === 0 && chunk.usage) {
        if (usageChunkIndex !== -1) v('more than one usage chunk');
        usageChunkIndex = report.chunks.length - 1;
        report.usage = chunk.usage as Record<string, unknown>;
        for (const k of ['prompt_tokens', 'completion_tokens', 'total_tokens']) {
          if (!Number.isInteger((chunk.usage as Record<string, unknown>)[k])) v(`usage.${k} is not an integer`);
        }
      } else if (chunk.usage !== null) v(`event ${position}: usage is ${JSON.stringify(chunk.usage)} (expected null)`);
    } else if ('usage' in chunk) v(`event ${position}: usage key present though the client did not ask`);
    for (const choice of chunk.choices as Record<string, unknown>[]) checkChoice(choice, position, report, roleSeen, v);
  });
  if (options.expectError) {
    if (!report.errorFrame) v('no error frame');
    if (report.endedWithDone) v('[DONE] after an error');
  } else {
    if (!report.endedWithDone) v('no [DONE]');
    if ((options.requireUsageChunk ?? options.includeUsage) && usageChunkIndex !== report.chunks.length - 1) v('the usage chunk is not the last chunk before [DONE]');
    for (const index of roleSeen) if (!report.finishReasons.has(index)) v(`choice ${index} has no finish_reason`);
  }
  for (const [index, calls] of report.toolCalls) {
    calls.forEach((call, i) => {
      if (!call.id) v(`choice ${index} tool call ${i} has no id`);
      if (!call.name) v(`choice ${index} tool call ${i} has no name`);
      if (!options.expectError) {
        try {
          JSON.parse(call.arguments === '' ? '{}' : call.arguments);
        } catch {
          v(`choice ${index} tool call ${i} arguments are not JSON: ${call.arguments}`);
        }
      }
    });
  }
  return report;
}

function checkChoice(choice: Record<string, unknown>, position: number, report: WireReport, roleSeen: Set<number>, v: (m: string) => void): void {
  const index = choice.index as number;
  const delta = (choice.delta ?? {}) as Record<string, unknown>;
  if (!roleSeen.has(index)) {
    roleSeen.add(index);
    if (delta.role !== 'assistant') v(`choice ${index}: first delta has no role`);
  }
  if (report.finishReasons.has(index) && (delta.content || delta.tool_calls || delta.reasoning_content)) v(`choice ${index}: content after finish_reason`);
  if ('reasoning' in delta) v(`event ${position}: delta has "reasoning" (clients expect reasoning_content)`);
  if (typeof delta.content === 'string') report.text.set(index, (report.text.get(index) ?? '') + delta.content);
  if (typeof delta.reasoning_content === 'string') report.reasoning.set(index, (report.reasoning.get(index) ?? '') + delta.reasoning_content);
  if (Array.isArray(delta.tool_calls)) {
    const calls = report.toolCalls.get(index) ?? [];
    report.toolCalls.set(index, calls);
    for (const fragment of delta.tool_calls as Record<string, unknown>[]) {
      const i = fragment.index;
      if (typeof i !== 'number') {
        v(`choice ${index}: tool call without index`);
        continue;
      }
      const fn = (fragment.function ?? {}) as Record<string, unknown>;
      if (i === calls.length) {
        if (fragment.type !== 'function') v(`choice ${index} tool call ${i}: first fragment has no type "function"`);
        calls.push({ id: String(fragment.id ?? ''), name: String(fn.name ?? ''), arguments: String(fn.arguments ?? '') });
      } else if (i === calls.length - 1) {
        const call = calls[i];
        if (call && typeof fn.arguments === 'string') call.arguments += fn.arguments;
      } else v(`choice ${index}: tool call index ${i} is not dense/in order (have ${calls.length})`);
    }
  }
  if (typeof choice.finish_reason === 'string') {
    if (report.finishReasons.has(index)) v(`choice ${index}: second finish_reason`);
    report.finishReasons.set(index, choice.finish_reason);
  }
}
