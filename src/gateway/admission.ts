import type { ClientKey } from './authenticate.js';
import type { Exchange } from './exchange.js';
import type { ModelEntry } from './route-table.js';

/**
 * The pipeline's "admit" step: what may stop a request after it is decoded and routed, before
 * any upstream is called (model access, rate limits, budgets).
 */
export interface Admission {
  /** Throws a GatewayError (403, 402/429, 503...) when the request may not go ahead; otherwise
   *  holds what it reserved until `settle`. */
  admit(request: AdmissionRequest): Promise<Ticket>;
}

export interface AdmissionRequest {
  key: ClientKey;
  exchange: Exchange;
  model: ModelEntry;
  /** The raw request body: rate limits estimate the prompt from it without a tokenizer. */
  body?: Uint8Array;
}

/** How an admitted request ended, for reconciling what was reserved for it. */
export interface Settlement {
  /** What it cost, integer nano-USD (0 when nothing was billed). */
  costNanoUsd: number;
  /** Tokens it used: input (cached included) plus output (reasoning included); 0 when none were billed. */
  tokens: number;
  /** A later admission step refused it: give back everything it took, the request itself too. */
  refused?: boolean;
}

export const refusedSettlement: Settlement = { costNanoUsd: 0, tokens: 0, refused: true };

/** What an admitted request holds; settled exactly once (later calls do nothing) when it ends,
 *  however it ends (concurrency slots are released then). */
export interface Ticket {
  settle(settlement: Settlement): void;
}

export const noTicket: Ticket = { settle: () => {} };

/** Admits everything: used until keys and budgets are configured. */
export const openAdmission: Admission = { admit: async () => noTicket };

/**
 * Runs admissions in order (cheap checks such as model access first, reservations after). When one
 * refuses, what the earlier ones reserved is released (refusedSettlement) before the refusal
 * propagates; the combined ticket settles every part with how the request really ended.
 */
export function composeAdmissions(...admissions: Admission[]): Admission {
  if (admissions.length === 1 && admissions[0] !== undefined) return admissions[0];
  return {
    admit: async (request) => {
      const tickets: Ticket[] = [];
      try {
        for (const admission of admissions) tickets.push(await admission.admit(request));
      } catch (error) {
        for (const ticket of tickets) ticket.settle(refusedSettlement);
        throw error;
      }
      if (tickets.every((t) => t === noTicket)) return noTicket;
      return { settle: (settlement) => tickets.forEach((t) => t.settle(settlement)) };
    },
  };
}
