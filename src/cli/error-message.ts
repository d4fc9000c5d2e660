/** What went wrong, for a message: a fetch failure's cause ("connect ECONNREFUSED ...") rather than its "fetch failed". */
export function innermostMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? error.cause.message : error.message;
}
