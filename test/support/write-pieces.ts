import type { ServerResponse } from 'node:http';

/**
 * Writes one SSE frame the way a network may deliver it: in pieces (a third, two thirds, all but
 * the last byte, the last byte), each handed to the socket before the next, so a decoder meets
 * JSON cut mid-way, an event line without its data line, and a CRLF split between \r and \n.
 */
export async function writeInPieces(res: ServerResponse, text: string): Promise<void> {
  const bytes = Buffer.from(text);
  const cuts = [...new Set([Math.floor(bytes.length / 3), Math.floor((2 * bytes.length) / 3), bytes.length - 1, bytes.length])]
    .filter((c) => c > 0)
    .sort((a, b) => a - b);
  let from = 0;
  for (const to of cuts) {
    const piece = bytes.subarray(from, to);
    from = to;
    await new Promise<void>((resolve) => res.write(piece, () => resolve()));
    await new Promise((r) => setImmediate(r));
  }
}
