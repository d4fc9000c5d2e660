/**
 * What a stream generated, kept for estimating usage when the upstream never reported it, within
 * a fixed memory bound: the raw pieces up to `limit` characters are kept (decoded only if an
 * estimate is needed); beyond that only their length is counted, and the estimate is scaled from
 * the kept sample. Answers up to the limit are counted exactly; longer ones are extrapolated.
 */
export class GeneratedSample {
  private readonly kept: string[] = [];
  private keptLength = 0;
  private totalLength = 0;

  constructor(private readonly limit = 16 * 1024) {}

  add(raw: string): void {
    this.totalLength += raw.length;
    if (this.keptLength >= this.limit) return;
    this.kept.push(raw);
    this.keptLength += raw.length;
  }

  /** The decoded sample, and the factor from it to the whole. */
  read(decode: (raw: string) => string = (raw) => raw): GeneratedText {
    if (this.keptLength === 0) return { text: '', scale: 1 };
    return { text: this.kept.map(decode).join(''), scale: this.totalLength / this.keptLength };
  }
}

export interface GeneratedText {
  text: string;
  /** Tokens of `text` times this estimate the tokens of everything generated. */
  scale: number;
}
