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
