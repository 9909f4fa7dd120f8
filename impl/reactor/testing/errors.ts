/** Test helper: what a reactor call throws, as data a test can compare. */
import { isReactorError, type ReactorErrorCode } from '../errors.js';

/** The code and message of the ReactorError `fn` throws, or 'no error'; anything else is rethrown. */
export function errorOf(fn: () => unknown): { code: ReactorErrorCode; message: string } | 'no error' {
  try {
    fn();
  } catch (e) {
    if (!isReactorError(e)) throw e;
    return { code: e.code, message: e.message };
  }
  return 'no error';
}
