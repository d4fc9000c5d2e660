import type { Usage } from '../core/usage.js';
import type { SseEvent } from '../sse/sse-decoder.js';
import type { GeneratedText } from './generated-sample.js';

/**
 * Turns one upstream stream into the client's protocol, event by event. One per attempt. The
 * relay owns timing (commit point, backpressure, keep-alives); the translator owns the bytes.
 */
export interface StreamTranslator {
  /** Client frames for one upstream event ('' for none). Throws a GatewayError for an in-band
   *  error or a malformed event. */
  push(event: SseEvent): string;
  /** Some event so far carried content: the commit point has been reached. */
  readonly sawContent: boolean;
  /** The upstream said it has finished (its terminator arrived). */
  readonly finished: boolean;
  /** At EOF without a terminator: whether what arrived is nevertheless a complete answer. */
  readonly completeWithoutTerminator: boolean;
  /** The frames that end a successful stream (e.g. a trailing usage chunk, then [DONE]). */
  closingFrames(): string;
  readonly usage: Usage | undefined;
  /** See UpstreamStreamDecoder.usageFinal; unset: final only with a finish or the terminator. */
  readonly usageFinal?: boolean;
  readonly finishReasons: string[];
  /** What was generated so far (content, reasoning, tool-call arguments), for estimating the
   *  usage of a stream that ended before its upstream reported it. Bounded in memory, decoded
   *  only when asked (see GeneratedSample). */
  generated(): GeneratedText;
}
