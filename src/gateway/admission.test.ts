import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/gateway-error.js';
import { composeAdmissions, noTicket, type Admission, type AdmissionRequest } from './admission.js';
import { modelAccess } from './key-model-access.js';

const request = (models: string[] | undefined, model: string): AdmissionRequest =>
  ({ key: { name: 'k', ...(models ? { models } : {}) }, model: { name: model, routes: [] } }) as unknown as AdmissionRequest;

function reserving(log: string[], name: string): Admission {
  return { admit: async () => ({ settle: (s) => void log.push(`${name}:${s.costNanoUsd}/${s.tokens}${s.refused ? '/refused' : ''}`) }) };
}

test('model access: a key with models may use only those (403 model_not_allowed, param model); others may use all', async () => {
  assert.equal(await modelAccess.admit(request(['a'], 'a')), noTicket);
  assert.equal(await modelAccess.admit(request(undefined, 'b')), noTicket);
  await assert.rejects(modelAccess.admit(request(['a'], 'b')), (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'model_not_allowed');
    assert.equal(error.status, 403);
    assert.equal(error.kind, 'permission');
    assert.equal(error.param, 'model');
    assert.match(error.message, /not allowed to use the model 'b'/);
    return true;
  });
});

test('composeAdmissions: in order; one ticket settles every part once; a refusal releases what was reserved', async () => {
  const log: string[] = [];
  const both = composeAdmissions(modelAccess, reserving(log, 'budget'), reserving(log, 'limits'));
  const ticket = await both.admit(request(undefined, 'a'));
  ticket.settle({ costNanoUsd: 42, tokens: 7 });
  assert.deepEqual(log, ['budget:42/7', 'limits:42/7']);

  log.length = 0;
  const refusing: Admission = { admit: async () => { throw new GatewayError('model_not_allowed', 'no'); } };
  await assert.rejects(composeAdmissions(reserving(log, 'budget'), refusing, reserving(log, 'never')).admit(request(undefined, 'a')), /no/);
  assert.deepEqual(log, ['budget:0/0/refused']);

  // Model access refuses before anything is reserved.
  log.length = 0;
  await assert.rejects(composeAdmissions(modelAccess, reserving(log, 'budget')).admit(request(['a'], 'b')), /not allowed/);
  assert.deepEqual(log, []);
});
