/**
 * Checks a raw Anthropic Messages stream as a client receives it, beyond what the SDK enforces
 * (shared/reference/wire-formats.md sections 3.3 and 6): every event has an `event:` line equal to
 * its JSON type; message_start first (pings aside) with `content: []`, integer
 * `usage.input_tokens` and `stop_reason: null`; blocks opened with consecutive indexes from 0,
 * one at a time; every delta targets the open block with a delta type its block takes; every
 * block closed; a message_delta with a known stop_reason and integer output_tokens; message_stop
 * last. A stream that failed ends with `event: error` and has no message_stop.
 */
export interface AnthropicBlock {
  type: string;
  text: string;
  thinking: string;
  signature: string | undefined;
  id: string | undefined;
  name: string | undefined;
  partialJson: string;
  start: Record<string, unknown>;
}

export interface AnthropicWireReport {
  violations: string[];
  events: Record<string, unknown>[];
  blocks: AnthropicBlock[];
  stopReason: string | undefined;
  /** message_start usage, then overwritten by each message_delta's keys (as the SDK does). */
  usage: Record<string, unknown>;
  messageStartUsage: Record<string, unknown> | undefined;
  errorEvent: Record<string, unknown> | undefined;
  pings: number;
}

const stopReasons = new Set(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal', 'model_context_window_exceeded']);
const deltaTypesByBlock: Record<string, string[]> = {
  text: ['text_delta', 'citations_delta'],
  tool_use: ['input_json_delta'],
  server_tool_use: ['input_json_delta'],
  thinking: ['thinking_delta', 'signature_delta'],
  redacted_thinking: [],
};

export interface AnthropicWireOptions {
  /** The stream must end with `event: error` (and no message_stop). */
  expectError?: boolean;
}

export function checkAnthropicStream(raw: string, options: AnthropicWireOptions = {}): AnthropicWireReport {
  const report: AnthropicWireReport = {
    violations: [], events: [], blocks: [], stopReason: undefined, usage: {}, messageStartUsage: undefined, errorEvent: undefined, pings: 0,
  };
  const v = (m: string): void => void report.violations.push(m);
  if (!raw.endsWith('\n\n')) v(`stream does not end with a blank line: ${JSON.stringify(raw.slice(-60))}`);
  let open: AnthropicBlock | undefined;
  let openIndex = -1;
  let started = false;
  let stopped = false;
  let sawMessageDelta = false;
  const blocks = raw.split('\n\n').filter((b) => b.trim() !== '');
  blocks.forEach((block, position) => {
    const lines = block.split('\n').filter((l) => !l.startsWith(':'));
    if (lines.length === 0) return; // a comment
    const eventLines = lines.filter((l) => l.startsWith('event:'));
    const dataLines = lines.filter((l) => l.startsWith('data:'));
    for (const line of lines) if (!line.startsWith('event:') && !line.startsWith('data:')) v(`event ${position}: stray line ${JSON.stringify(line.slice(0, 60))}`);
    if (eventLines.length !== 1) {
      v(`event ${position}: ${eventLines.length} event: lines (the SDK drops events without one): ${JSON.stringify(block.slice(0, 120))}`);
    }
    if (dataLines.length === 0) {
      v(`event ${position}: no data line`);
      return;
    }
    const name = eventLines[0]?.slice(6).trim();
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(dataLines.map((l) => l.slice(5).trimStart()).join('\n')) as Record<string, unknown>;
    } catch {
      v(`event ${position}: data is not JSON: ${JSON.stringify(block.slice(0, 120))}`);
      return;
    }
    report.events.push(payload);
    const type = payload.type as string;
    if (name !== undefined && name !== type) v(`event ${position}: event name ${JSON.stringify(name)} differs from JSON type ${JSON.stringify(type)}`);
    if (stopped) v(`event ${position}: ${type} after message_stop`);
    if (report.errorEvent) v(`event ${position}: ${type} after the error event`);
    if (type === 'ping') {
      report.pings++;
      return;
    }
    if (type === 'error') {
      report.errorEvent = payload;
      const error = payload.error as Record<string, unknown> | undefined;
      if (typeof error?.type !== 'string' || typeof error.message !== 'string') v(`error event without error.type / error.message: ${JSON.stringify(payload)}`);
      return;
    }
    if (!started) {
      if (type !== 'message_start') v(`event ${position}: ${type} before message_start`);
    }
    switch (type) {
      case 'message_start': {
        if (started) v(`event ${position}: a second message_start`);
        started = true;
        const message = (payload.message ?? {}) as Record<string, unknown>;
        if (message.type !== 'message' || message.role !== 'assistant') v('message_start.message is not an assistant message');
        if (!Array.isArray(message.content) || message.content.length !== 0) v('message_start.message.content is not []');
        if (message.stop_reason !== null) v(`message_start stop_reason is ${JSON.stringify(message.stop_reason)} (expected null)`);
        const usage = message.usage as Record<string, unknown> | undefined;
        if (usage === undefined || usage === null) v('message_start.message has no usage');
        else {
          if (!Number.isInteger(usage.input_tokens)) v(`message_start usage.input_tokens is ${JSON.stringify(usage.input_tokens)} (expected an integer)`);
          if (!Number.isInteger(usage.output_tokens)) v(`message_start usage.output_tokens is ${JSON.stringify(usage.output_tokens)} (expected an integer)`);
          report.messageStartUsage = usage;
          Object.assign(report.usage, usage);
        }
        break;
      }
      case 'content_block_start': {
        const index = payload.index as number;
        if (open) v(`event ${position}: block ${index} starts while block ${openIndex} is open`);
        if (index !== report.blocks.length) v(`event ${position}: block index ${index}, expected ${report.blocks.length} (consecutive from 0)`);
        const start = (payload.content_block ?? {}) as Record<string, unknown>;
        const blockType = String(start.type);
        if (!(blockType in deltaTypesByBlock)) v(`event ${position}: unexpected block type ${blockType}`);
        if (blockType === 'tool_use') {
          if (typeof start.id !== 'string' || start.id === '') v(`tool_use block ${index} has no id`);
          if (typeof start.name !== 'string' || start.name === '') v(`tool_use block ${index} has no name`);
          if (JSON.stringify(start.input) !== '{}') v(`tool_use block ${index} starts with input ${JSON.stringify(start.input)} (expected {})`);
        }
        if (blockType === 'text' && start.text !== '') v(`text block ${index} starts with text ${JSON.stringify(start.text)}`);
        open = {
          type: blockType,
          text: '',
          thinking: typeof start.thinking === 'string' ? start.thinking : '',
          signature: typeof start.signature === 'string' && start.signature !== '' ? start.signature : undefined,
          id: start.id as string | undefined,
          name: start.name as string | undefined,
          partialJson: '',
          start,
        };
        openIndex = index;
        report.blocks.push(open);
        break;
      }
      case 'content_block_delta': {
        const index = payload.index as number;
        const delta = (payload.delta ?? {}) as Record<string, unknown>;
        if (!open || index !== openIndex) {
          v(`event ${position}: delta for block ${index}, but the open block is ${open ? openIndex : 'none'}`);
          break;
        }
        const allowed = deltaTypesByBlock[open.type] ?? [];
        if (!allowed.includes(String(delta.type))) v(`event ${position}: ${String(delta.type)} into a ${open.type} block`);
        if (delta.type === 'text_delta') open.text += String(delta.text);
        if (delta.type === 'thinking_delta') open.thinking += String(delta.thinking);
        if (delta.type === 'signature_delta') open.signature = String(delta.signature);
        if (delta.type === 'input_json_delta') open.partialJson += String(delta.partial_json);
        break;
      }
      case 'content_block_stop': {
        const index = payload.index as number;
        if (!open || index !== openIndex) v(`event ${position}: stop for block ${index}, but the open block is ${open ? openIndex : 'none'}`);
        if (open?.type === 'tool_use') {
          try {
            JSON.parse(open.partialJson === '' ? '{}' : open.partialJson);
          } catch {
            v(`tool_use block ${index}: partial_json does not parse: ${open.partialJson}`);
          }
        }
        open = undefined;
        openIndex = -1;
        break;
      }
      case 'message_delta': {
        if (open) v(`event ${position}: message_delta while block ${openIndex} is open`);
        sawMessageDelta = true;
        const delta = (payload.delta ?? {}) as Record<string, unknown>;
        if (delta.stop_reason !== null && delta.stop_reason !== undefined) {
          if (!stopReasons.has(String(delta.stop_reason))) v(`unknown stop_reason ${JSON.stringify(delta.stop_reason)}`);
          report.stopReason = String(delta.stop_reason);
        }
        const usage = payload.usage as Record<string, unknown> | undefined;
        if (!usage || !Number.isInteger(usage.output_tokens)) v(`message_delta usage.output_tokens is not an integer: ${JSON.stringify(usage)}`);
        else for (const [k, value] of Object.entries(usage)) if (value !== null && value !== undefined) report.usage[k] = value;
        break;
      }
      case 'message_stop':
        if (open) v('message_stop while a block is open');
        stopped = true;
        break;
      default:
        v(`event ${position}: unknown event type ${JSON.stringify(type)}`);
    }
  });
  if (!started) v('no message_start');
  if (options.expectError) {
    if (!report.errorEvent) v('no error event');
    if (stopped) v('message_stop after an error');
  } else {
    if (report.errorEvent) v(`unexpected error event: ${JSON.stringify(report.errorEvent)}`);
    if (!sawMessageDelta) v('no message_delta');
    if (report.stopReason === undefined) v('no stop_reason');
    if (!stopped) v('no message_stop');
    const last = report.events.at(-1);
    if (last?.type !== 'message_stop') v(`the last event is ${String(last?.type)}, not message_stop`);
  }
  return report;
}
