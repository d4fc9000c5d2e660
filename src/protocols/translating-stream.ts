import { isContentEvent, type ChatEvent } from '../core/chat-event.js';
import type { Usage } from '../core/usage.js';
import type { SseEvent } from '../sse/sse-decoder.js';
import type { ClientStreamEncoder, UpstreamStreamDecoder } from './codec.js';
import { GeneratedSample, type GeneratedText } from './generated-sample.js';
import type { StreamTranslator } from './stream-translator.js';

/**
 * A translated stream: the upstream's codec decodes each event into neutral events, the client's
 * codec encodes them. Usage and finish reasons are read off the neutral events, so accounting is
 * the same whichever pair of protocols is involved.
 */
export class TranslatingStream implements StreamTranslator {
  sawContent = false;
  usage: Usage | undefined;
  readonly finishReasons: string[] = [];
  private readonly sample = new GeneratedSample();

  constructor(
    private readonly decoder: UpstreamStreamDecoder,
    private readonly encoder: ClientStreamEncoder,
  ) {}

  push(event: SseEvent): string {
    let frames = '';
    for (const neutral of this.decoder.push(event)) frames += this.take(neutral);
    return frames;
  }

  get finished(): boolean {
    return this.decoder.finished;
  }

  get completeWithoutTerminator(): boolean {
    return this.decoder.completeWithoutTerminator;
  }

  get usageFinal(): boolean {
    return this.decoder.usageFinal === true;
  }

  closingFrames(): string {
    return this.encoder.finish();
  }

  generated(): GeneratedText {
    return this.sample.read();
  }

  private take(event: ChatEvent): string {
    // A finish reason commits too (as on the passthrough path): an answer may be legitimately
    // empty, e.g. a stop sequence matched at once.
    if (!this.sawContent && (isContentEvent(event) || event.type === 'finish')) this.sawContent = true;
    if (event.type === 'text' || event.type === 'reasoning') this.sample.add(event.text);
    else if (event.type === 'tool-call') this.sample.add((event.name ?? '') + event.argumentsDelta);
    if (event.type === 'usage') this.usage = event.usage;
    else if (event.type === 'start' && event.usage !== undefined && this.usage === undefined) this.usage = event.usage;
    else if (event.type === 'finish') this.finishReasons.push(event.reason);
    return this.encoder.push(event);
  }
}
