/**
 * The client side: a dialer whose connections are balanced over its own group of event loops and
 * served by the same Connection as accepted ones (./connection.ts). The HTTP/1.1, qrpc and HTTP/2
 * clients dial through it.
 */
import { NetError, type Env } from '../runtime/env.js';
import { Connection, type ReactorHandlers } from './connection.js';
import { LoopGroup } from './loop.js';
import { resolveReactorOptions, type ReactorOptions } from './options.js';

export interface DialOptions {
  /** Give up with the runtime's ETIMEDOUT after this long (default: the runtime's). */
  connectTimeoutUs?: number;
}

export interface ReactorDialer<C = unknown> {
  readonly group: LoopGroup;
  /** Connections dialed and still open. */
  readonly open: number;
  /** Connects; rejects with the runtime's NetError (ECONNREFUSED, ETIMEDOUT...). */
  dial(address: string, options?: DialOptions): Promise<Connection<C>>;
}

export function createDialer<C = unknown>(
  env: Env,
  handlers: ReactorHandlers<C>,
  options: ReactorOptions = {},
): ReactorDialer<C> {
  const group = new LoopGroup(env, resolveReactorOptions(options));
  let open = 0;
  return {
    group,
    get open() {
      return open;
    },
    dial(address, dialOptions = {}) {
      const d = env.defer<Connection<C>>();
      const connectOptions =
        dialOptions.connectTimeoutUs === undefined ? undefined : { timeoutUs: dialOptions.connectTimeoutUs };
      env.connect(
        address,
        (error, stream) => {
          if (stream === undefined) {
            d.reject(error ?? new NetError('ECONNREFUSED', `connect ${address} failed`));
            return;
          }
          const loop = group.assign();
          open++;
          const conn = new Connection<C>(env, group, loop, stream, handlers, 'dialed', () => {
            group.release(loop);
            open--;
          });
          d.resolve(conn);
        },
        connectOptions,
      );
      return d.promise;
    },
  };
}
