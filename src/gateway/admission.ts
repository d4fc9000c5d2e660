import type { ClientKey } from './authenticate.js';
import type { Exchange } from './exchange.js';
import type { ModelEntry } from './route-table.js';

/**
 * The pipeline's "admit" step: what may stop a request after it is decoded and routed, before
 * any upstream is called (model access, budgets; rate limits come with the limits issue).
 */
export interface Admission {
  /** Throws a GatewayError (403, 402/429...) when the request may not go ahead; otherwise holds
   *  what it reserved until `settle`. */
  admit(request: AdmissionRequest): Promise<Ticket>;
}

export interface AdmissionRequest {
  key: ClientKey;
  exchange: Exchange;
  model: ModelEntry;
}

/** What an admitted request holds; settled exactly once with what the request really cost. */
export interface Ticket {
  settle(costNanoUsd: number): void;
}

export const noTicket: Ticket = { settle: () => {} };

/** Admits everything: used until keys and budgets are configured. */
export const openAdmission: Admission = { admit: async () => noTicket };

/**
 * Runs admissions in order (cheap checks such as model access first, reservations after). When one
 * refuses, what the earlier ones reserved is released (settled at 0) before the refusal propagates;
 * the combined ticket settles every part with the request's real cost.
 */
export function composeAdmissions(...admissions: Admission[]): Admission {
  if (admissions.length === 1 && admissions[0] !== undefined) return admissions[0];
  return {
    admit: async (request) => {
      const tickets: Ticket[] = [];
      try {
        for (const admission of admissions) tickets.push(await admission.admit(request));
      } catch (error) {
        for (const ticket of tickets) ticket.settle(0);
        throw error;
      }
      if (tickets.every((t) => t === noTicket)) return noTicket;
      return { settle: (costNanoUsd) => tickets.forEach((t) => t.settle(costNanoUsd)) };
    },
  };
}
