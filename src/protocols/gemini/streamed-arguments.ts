import { isObject } from '../../core/json.js';

type Segment = string | number;
type Container = Record<string, unknown> | unknown[];

/**
 * The arguments of one Vertex function call whose arguments are streamed
 * (`functionCallingConfig.streamFunctionCallArguments`, Vertex only; google.cloud.aiplatform.v1
 * FunctionCall.partial_args / PartialArg): each fragment is `partialArgs: [{jsonPath: "$.a.b[0]"
 * (RFC 9535), stringValue | numberValue | boolValue | nullValue, willContinue}]`, and a string
 * arrives in pieces at the same path (the last piece, often "", without `willContinue`). The value is built here and serialised once the call
 * closes: emitting JSON text while paths may still reopen earlier containers would risk fragments
 * that do not concatenate into valid JSON. Objects have no prototype, so a `__proto__` key is data.
 */
export class StreamedArguments {
  private readonly root: Record<string, unknown> = Object.create(null) as Record<string, unknown>;

  /** Applies one `partialArgs` array; returns an error message for a malformed fragment. */
  apply(partialArgs: unknown): string | undefined {
    if (partialArgs === undefined) return undefined;
    if (!Array.isArray(partialArgs)) return 'functionCall.partialArgs is not an array';
    for (const arg of partialArgs) {
      if (!isObject(arg) || typeof arg.jsonPath !== 'string') return 'a partialArgs entry has no jsonPath';
      const path = parseJsonPath(arg.jsonPath);
      if (path === undefined) return `unsupported partialArgs jsonPath ${JSON.stringify(arg.jsonPath)}`;
      const problem = this.set(path, arg);
      if (problem !== undefined) return `${problem} at ${arg.jsonPath}`;
    }
    return undefined;
  }

  /** The arguments as JSON text. */
  json(): string {
    return JSON.stringify(this.root);
  }

  private set(path: Segment[], arg: Record<string, unknown>): string | undefined {
    let container: Container = this.root;
    for (let i = 0; i < path.length - 1; i++) {
      const segment = path[i] as Segment;
      const wantsArray = typeof path[i + 1] === 'number';
      let child = read(container, segment);
      if (child === undefined) {
        child = wantsArray ? [] : (Object.create(null) as Record<string, unknown>);
        const problem = write(container, segment, child);
        if (problem !== undefined) return problem;
      }
      if (wantsArray ? !Array.isArray(child) : !isObject(child)) return 'a value of another type is already there';
      container = child as Container;
    }
    const leaf = path[path.length - 1] as Segment;
    const existing = read(container, leaf);
    if (typeof arg.stringValue === 'string' && typeof existing === 'string') {
      // A continuation: paths are written once per call, so a second string at the same path
      // extends the first (the official streaming sample and the recorded streams do this).
      return write(container, leaf, existing + arg.stringValue);
    }
    const value = leafValue(arg);
    return value === undefined ? undefined : write(container, leaf, value.value);
  }
}

function leafValue(arg: Record<string, unknown>): { value: unknown } | undefined {
  if (typeof arg.stringValue === 'string') return { value: arg.stringValue };
  if (typeof arg.numberValue === 'number') return { value: arg.numberValue };
  if (typeof arg.boolValue === 'boolean') return { value: arg.boolValue };
  if ('nullValue' in arg) return { value: null };
  return undefined; // no value we know: nothing to set
}

function read(container: Container, segment: Segment): unknown {
  if (Array.isArray(container)) return typeof segment === 'number' ? container[segment] : undefined;
  return typeof segment === 'string' && Object.hasOwn(container, segment) ? container[segment] : undefined;
}

function write(container: Container, segment: Segment, value: unknown): string | undefined {
  if (Array.isArray(container)) {
    if (typeof segment !== 'number') return 'a key inside an array';
    // Elements arrive in order; a gap would serialise as null, data the model never produced.
    if (segment > container.length) return `array index ${segment} skips elements`;
    container[segment] = value;
    return undefined;
  }
  if (typeof segment !== 'string') return 'an index inside an object';
  container[segment] = value;
  return undefined;
}

const segmentPattern = /\.([^.[\]]+)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\["((?:[^"\\]|\\.)*)"\]/y;

/** `$.a.b[0]['c d']` -> ['a', 'b', 0, 'c d']; undefined for anything else (the root included). */
export function parseJsonPath(path: string): Segment[] | undefined {
  if (!path.startsWith('$')) return undefined;
  const segments: Segment[] = [];
  let position = 1;
  while (position < path.length) {
    segmentPattern.lastIndex = position;
    const match = segmentPattern.exec(path);
    if (match === null) return undefined;
    const [, name, index, single, double] = match;
    if (name !== undefined) segments.push(name);
    else if (index !== undefined) segments.push(Number(index));
    else segments.push((single ?? double ?? '').replace(/\\(.)/g, '$1'));
    position = segmentPattern.lastIndex;
  }
  return segments.length === 0 ? undefined : segments;
}
