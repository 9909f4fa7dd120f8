/** Test support: what a call throws, as the tests of SimError messages read it (not part of the model). */
import { SimError } from '../errors.js';

/** The message of the SimError `fn` throws ('ok' when it returns; another error as its string). */
export function messageOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof SimError ? e.message : String(e);
  }
}
