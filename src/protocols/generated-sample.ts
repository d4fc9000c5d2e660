import { decodeStringLiteral } from './json-string-literal.js';

/**
 * What a stream generated, kept for estimating usage when the upstream never reported it, within
 * a fixed memory bound: the text up to `limit` characters is kept; beyond that only its length is
 * counted, and the estimate is scaled from the kept sample. Answers up to the limit are counted
 * exactly; longer ones are extrapolated.
 *
 * Text, not raw events: a raw event is ~20 times its text, and often a slice of the whole socket
 * read it came in, which it keeps alive. Held for the whole stream, 256 streams' raw chunks were
 * ~10 % of the gateway's live heap.
 */
export class GeneratedSample {
  private readonly kept: string[] = [];
  private keptLength = 0;
  private totalLength = 0;

  constructor(private readonly limit = 16 * 1024) {}

  add(text: string): void {
    this.totalLength += text.length;
    if (this.keptLength >= this.limit) return;
    this.kept.push(text);
    this.keptLength += text.length;
  }

  /**
   * The text of the valid JSON string literal at `start`..`end` of `json` (quotes included), for
   * events relayed unparsed: decoded only while the sample still keeps text, else just counted.
   */
  addLiteral(json: string, start: number, end: number): void {
    if (this.keptLength >= this.limit) this.totalLength += end - start - 2;
    else this.add(decodeStringLiteral(json, start, end));
  }

  /** The sample, and the factor from it to the whole. */
  read(): GeneratedText {
    if (this.keptLength === 0) return { text: '', scale: 1 };
    return { text: this.kept.join(''), scale: this.totalLength / this.keptLength };
  }
}

export interface GeneratedText {
  text: string;
  /** Tokens of `text` times this estimate the tokens of everything generated. */
  scale: number;
}
