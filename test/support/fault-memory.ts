/**
 * Heap and handle measurements for the fault-injection suite's leak tests: a full, forced garbage
 * collection (`--expose-gc` switched on at run time, the `gc` function taken from a fresh
 * context), then heapUsed; and the process's active handles by type (sockets, timers).
 */
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** heapUsed after full collections, once the heap has stopped shrinking (the smallest of a few). */
export async function settledHeapUsed(): Promise<number> {
  let smallest = Infinity;
  for (let i = 0; i < 4; i++) {
    gc();
    // Let finalizers, weak callbacks and socket close events run between collections.
    await new Promise((resolve) => setTimeout(resolve, 30));
    smallest = Math.min(smallest, process.memoryUsage().heapUsed);
  }
  return smallest;
}

/** How many active handles of each kind the process holds (TCPSocketWrap, Timeout, ...). */
export function activeHandles(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** Runs `task` `count` times, at most `concurrency` at a time. */
export async function repeat(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
