import { renderOpenAiErrorBody, renderOpenAiStreamError } from '../protocols/openai-chat/errors.js';
import type { ErrorDialect } from './respond-error.js';

/** Errors as OpenAI clients expect them. */
export const openAiDialect: ErrorDialect = {
  errorBody: renderOpenAiErrorBody,
  streamErrorFrame: renderOpenAiStreamError,
};
