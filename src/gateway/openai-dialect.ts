import { renderOpenAiErrorBody, renderOpenAiStreamError } from '../protocols/openai-chat/errors.js';
import type { ErrorDialect } from './respond-error.js';

/** Errors as OpenAI clients expect them. */
export const openAiDialect: ErrorDialect = {
  // The catalogue's statuses are OpenAI's.
  status: (error) => error.status,
  errorBody: renderOpenAiErrorBody,
  streamErrorFrame: renderOpenAiStreamError,
};
