import { GatewayError } from '../core/gateway-error.js';
import { noTicket, type Admission } from './admission.js';
import type { ClientKey } from './authenticate.js';

/** Whether the key may use this public model (keys without `models` may use every model). */
export function mayUseModel(key: ClientKey, model: string): boolean {
  return key.models === undefined || key.models.includes(model);
}

/** Throws the 403 a key gets for a model outside its `models`. */
export function assertModelAllowed(key: ClientKey, model: string): void {
  if (mayUseModel(key, model)) return;
  throw new GatewayError('model_not_allowed', `The API key '${key.name}' is not allowed to use the model '${model}'. List the models it may use with GET /v1/models.`, { param: 'model' });
}

/** The admission step that enforces a key's allowed models; it reserves nothing. */
export const modelAccess: Admission = {
  admit: async ({ key, model }) => {
    assertModelAllowed(key, model.name);
    return noTicket;
  },
};
