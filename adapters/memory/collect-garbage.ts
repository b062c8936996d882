/**
 * One full garbage collection, on request. Node runs V8 without idle tasks, so V8's memory
 * reducer seldom runs in a server that is never quite idle (ws heartbeats, $SYS stats): after a
 * start-up that folded and rendered 100,000 users, about 170 MiB of garbage stayed in the heap
 * (and in RSS) for as long as nothing else forced a major GC (issue 14, `npm run bench startup`).
 * A major GC of the `last-resort` flavour (V8's gc extension: several full collections with
 * the memory-reducing flags, as on memory pressure) compacts and gives the free pages back; a
 * plain one frees the objects but keeps the pages (RSS unchanged).
 *
 * `gc` exists only with --expose-gc; the flag also works when set at run time for contexts made
 * after it, which is how this gets the function without changing how operators start MCM.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options?: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
let gc: Gc | null = null;

export const collectGarbage = (): void => {
  if (gc === null) {
    const own = (globalThis as { gc?: Gc }).gc;
    if (typeof own === 'function') gc = own;
    else {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as Gc;
    }
  }
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
};
