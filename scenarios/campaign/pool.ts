/**
 * Where a campaign's work items run: in this thread one after another, in this thread several at
 * once (real-runtime items wait on real time, they do not compute), or on worker threads (the
 * simulation is CPU-bound). Every item draws from the run's fcSeed alone, so results do not depend
 * on how the items were spread. Node-only (worker_threads).
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Lab } from '../lab.js';
import { runWorkItem, type ItemOptions, type ItemResult, type WorkItem } from './item.js';

/** Messages from the main thread to a worker (the worker entry is bin/commands/run-worker.ts). */
export type ToWorker = { type: 'run'; item: WorkItem; options: ItemOptions };

/** Messages from a worker to the main thread. */
export type FromWorker =
  | { type: 'progress'; index: number; done: number }
  | { type: 'done'; result: ItemResult }
  | { type: 'failed'; index: number; message: string };

export interface Dispatch {
  /** Called before an item starts; false skips it (the budget is spent). */
  mayStart: (item: WorkItem) => boolean;
  onProgress: (item: WorkItem, done: number) => void;
  onDone: (result: ItemResult) => void;
}

/** Runs items one after another in this thread. */
export async function runInProcess(
  lab: Lab,
  items: readonly WorkItem[],
  o: ItemOptions,
  d: Dispatch,
): Promise<void> {
  for (const item of items) {
    if (!d.mayStart(item)) continue;
    d.onDone(
      await runWorkItem(
        lab,
        item,
        o,
        () => performance.now(),
        (done) => d.onProgress(item, done),
      ),
    );
  }
}

/** Runs items in this thread, `atOnce` at a time (real-runtime items: they wait, they do not compute). */
export async function runConcurrently(
  lab: Lab,
  items: readonly WorkItem[],
  o: ItemOptions,
  atOnce: number,
  d: Dispatch,
): Promise<void> {
  let next = 0;
  const one = async (): Promise<void> => {
    for (;;) {
      const item = items[next++];
      if (item === undefined) return;
      if (!d.mayStart(item)) continue;
      d.onDone(
        await runWorkItem(
          lab,
          item,
          o,
          () => performance.now(),
          (done) => d.onProgress(item, done),
        ),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(atOnce, items.length) }, one));
}

/** Runs items on `workers` threads, each taking the next item as it finishes one. */
export async function runOnWorkers(
  workerFile: string,
  items: readonly WorkItem[],
  o: ItemOptions,
  workers: number,
  d: Dispatch,
): Promise<void> {
  const file = workerFile;
  let next = 0;
  const one = async (): Promise<void> => {
    const worker = new Worker(file);
    try {
      for (;;) {
        const item = items[next++];
        if (item === undefined) return;
        if (!d.mayStart(item)) continue;
        const result = await new Promise<ItemResult>((resolve, reject) => {
          const onMessage = (m: FromWorker): void => {
            if (m.type === 'progress') d.onProgress(item, m.done);
            else {
              worker.off('message', onMessage);
              worker.off('error', reject);
              if (m.type === 'done') resolve(m.result);
              else reject(new Error(`worker: ${item.property} (${item.impl}): ${m.message}`));
            }
          };
          worker.on('message', onMessage);
          worker.once('error', reject);
          const msg: ToWorker = { type: 'run', item, options: o };
          worker.postMessage(msg);
        });
        d.onDone(result);
      }
    } finally {
      await worker.terminate();
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, items.length) }, one));
}
