/**
 * Worker thread of `netlab run --workers N` (scenarios/campaign/pool.ts starts it): runs the work
 * items the main thread sends, one at a time, on the CLI's Lab (every registered stack; each thread
 * has its own), and posts back progress and results.
 */
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { LAB } from '../lab.js';
import { runWorkItem } from '../../scenarios/campaign/item.js';
import type { FromWorker, ToWorker } from '../../scenarios/campaign/pool.js';

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
        LAB,
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
