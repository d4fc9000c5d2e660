/**
 * The few Server-Sent Events frames Sluice writes to its clients. Any line break inside a value
 * would end the field early (and a blank line would dispatch), so multi-line values are written as
 * one field line per line, which is exactly how a decoder joins them back with "\n".
 */

const LINE_BREAK = /\r\n|\r|\n/;
const HAS_LINE_BREAK = /[\r\n]/;

/** `data: <line>\n` for each line of data, then the blank line that dispatches the event. */
export function encodeSseData(data: string): string {
  // Fast path: JSON payloads never contain a raw line break.
  if (!HAS_LINE_BREAK.test(data)) return `data: ${data}\n\n`;
  let out = '';
  for (const line of data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return out + '\n';
}

/** `event: <name>\n`, then the data lines and the blank line. */
export function encodeSseEvent(event: string, data: string): string {
  // An event name cannot be split over lines; writing it anyway would corrupt the stream.
  if (HAS_LINE_BREAK.test(event)) throw new TypeError('SSE event name must not contain a line break');
  return `event: ${event}\n${encodeSseData(data)}`;
}

/** `: <text>\n\n` (a keep-alive, ignored by clients). Multi-line text becomes one comment per line. */
export function encodeSseComment(text: string): string {
  if (!HAS_LINE_BREAK.test(text)) return `: ${text}\n\n`;
  let out = '';
  for (const line of text.split(LINE_BREAK)) out += `: ${line}\n`;
  return out + '\n';
}
