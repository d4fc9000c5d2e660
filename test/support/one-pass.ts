/**
 * Config for tests about what a single pass over a model's routes gives the client (translation,
 * error shapes): each route tried once, no retries, no circuit breaker. Sluice's own retries and
 * cooldowns are tested in test/routing-*.test.ts.
 */
export function onePassYaml(routes = 1): string {
  return `retries:\n  max_attempts: ${routes}\nhealth:\n  failure_threshold: 0\n`;
}
