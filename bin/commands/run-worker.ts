/**
 * Worker thread of `netlab run --workers N`: runs the work items the main thread sends, one at a
 * time, and posts back progress and results. Importing run-item.js registers every family and
 * museum variant here too (each thread has its own registries).
 */
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { LAB } from '../lab.js';
import { runWorkItem, type ItemOptions, type ItemResult, type WorkItem } from './run-item.js';

/** Messages from the main thread. */
export type ToWorker = { type: 'run'; item: WorkItem; options: ItemOptions };

/** Messages to the main thread. */
export type FromWorker =
  | { type: 'progress'; index: number; done: number }
  | { type: 'done'; result: ItemResult }
  | { type: 'failed'; index: number; message: string };

/** How often (in scenarios) progress is posted: often enough for a live line, rare enough to cost nothing. */
const PROGRESS_EVERY = 10;

const port = parentPort;
if (port !== null) {
  port.on('message', (msg: ToWorker) => {
    const post = (m: FromWorker): void => port.postMessage(m);
    const { item, options } = msg;
    const run = async (): Promise<void> => {
      if (!LAB.implNames().includes(item.impl))
        throw new Error(
          `implementation '${item.impl}' is not registered in worker threads (registered: ${LAB.implNames().join(', ')}); use --workers 1`,
        );
      const result = await runWorkItem(
        item,
        options,
        () => performance.now(),
        (done) => {
          if (done % PROGRESS_EVERY === 0) post({ type: 'progress', index: item.index, done });
        },
      );
      post({ type: 'done', result });
    };
    run().catch((e: unknown) =>
      post({
        type: 'failed',
        index: item.index,
        message: e instanceof Error ? (e.stack ?? e.message) : String(e),
      }),
    );
  });
}
