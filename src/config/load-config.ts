/**
 * Reads sluice.yaml: YAML syntax, then `${VAR}` interpolation, then the schema. Every stage
 * reports all it finds, each problem with file, line, column and key path, so an operator
 * fixes a config in one pass instead of one error per restart.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { interpolateDocument } from './interpolate.js';
import { formatPath, locate, pathOfKeyAt } from './locate.js';
import { describeIssue } from './messages.js';
import { configSchema, type SluiceConfig } from './schema.js';

export interface ConfigProblem {
  file: string;
  /** 1-based; 0 when the problem concerns the whole file (e.g. it cannot be read). */
  line: number;
  /** 1-based; 0 together with line. */
  column: number;
  /** Key path like "providers.openai.base_url" or "models.gpt-5.routes[0]"; "" for the root. */
  path: string;
  message: string;
}

/** `sluice.yaml:12:5: providers.openai.base_url: <message>`; parts that are unknown are left out. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return p.path === '' ? `${where}: ${p.message}` : `${where}: ${p.path}: ${p.message}`;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.problems = problems;
  }
}

/** Positions problems in one source text. */
function problemMaker(file: string, lineCounter: LineCounter) {
  return (offset: number, path: readonly (string | number)[], message: string): ConfigProblem => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col, path: formatPath(path), message };
  };
}

function byPosition(a: ConfigProblem, b: ConfigProblem): number {
  return a.line - b.line || a.column - b.column;
}

/** Parses and validates config text; throws ConfigError listing every problem found. */
export function parseConfigText(text: string, file: string, env: Record<string, string | undefined>): SluiceConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const problem = problemMaker(file, lineCounter);
  const problems: ConfigProblem[] = [];

  for (const error of doc.errors) {
    const offset = error.pos[0];
    if (error.code === 'DUPLICATE_KEY') {
      const path = pathOfKeyAt(doc, offset) ?? [];
      const key = path[path.length - 1] ?? '';
      problems.push(problem(offset, path, `duplicate key "${key}": it is already set earlier in the same mapping`));
    } else if (error.code === 'MULTIPLE_DOCS') {
      problems.push(problem(offset, [], 'the file must hold a single YAML document, but "---" starts another'));
    } else {
      problems.push(problem(offset, [], `YAML syntax error: ${error.message}`));
    }
  }
  // Past a syntax error the document is not what the operator wrote, so schema problems would
  // only add noise; a duplicate key leaves it intact, so validation still runs.
  if (problems.length > doc.errors.filter((e) => e.code === 'DUPLICATE_KEY').length) {
    throw new ConfigError(problems.sort(byPosition));
  }

  const interpolation = interpolateDocument(doc, env, text);
  for (const p of interpolation) problems.push(problem(p.offset, p.path, p.message));
  // A value whose variable is unset would also fail the schema; one problem for it is enough.
  const unresolved = interpolation.map((p) => formatPath(p.path));
  const isUnresolved = (path: string): boolean =>
    unresolved.some((u) => path === u || path.startsWith(`${u}.`) || path.startsWith(`${u}[`));

  let data: unknown;
  try {
    data = doc.toJS() ?? {};
  } catch (error) {
    // e.g. an alias (*name) whose anchor (&name) is missing, which the parser does not flag.
    const reason = error instanceof Error ? error.message : String(error);
    problems.push(problem(0, [], `YAML error: ${reason}`));
    throw new ConfigError(problems.sort(byPosition));
  }

  const result = configSchema.safeParse(data, { reportInput: true });
  if (!result.success) {
    for (const issue of result.error.issues) {
      for (const report of describeIssue(issue, configSchema, data)) {
        const p = problem(locate(doc, report.path, report.target), report.path, report.message);
        if (!isUnresolved(p.path)) problems.push(p);
      }
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems.sort(byPosition));
  return result.data;
}

function readFailure(error: unknown): string {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  if (code === 'ENOENT') return 'cannot read the config file: it does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot read the config file: permission denied';
  if (code === 'EISDIR') return 'cannot read the config file: it is a directory';
  return `cannot read the config file: ${error instanceof Error ? error.message : String(error)}`;
}

/** Reads and validates a config file; a missing or unreadable file is a ConfigError too. */
export async function loadConfigFile(
  path: string,
  env: Record<string, string | undefined> = process.env,
): Promise<SluiceConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError([{ file: path, line: 0, column: 0, path: '', message: readFailure(error) }]);
  }
  return parseConfigText(text, path, env);
}

/** What an empty config file parses to. */
export function defaultConfig(): SluiceConfig {
  return parseConfigText('', '<defaults>', {});
}
