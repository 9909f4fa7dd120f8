/** Echo's oracle constants against impl/echo/: written apart on purpose, so a change shows here. */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_PENDING_OUT_BYTES,
  FRAME_HEADER_BYTES,
} from '../../impl/echo/echo.js';
import { DEFAULT_MAX_PENDING, DEFAULT_RECONNECT_MIN_US } from '../../impl/echo/requester.js';
import * as spec from './reference.js';

describe("echo's oracle reference", () => {
  it("agrees with impl/echo's constants", () => {
    expect(spec.SPEC_FRAME_HEADER_BYTES).toBe(FRAME_HEADER_BYTES);
    expect(spec.SPEC_DEFAULT_MAX_FRAME_BYTES).toBe(DEFAULT_MAX_FRAME_BYTES);
    expect(spec.SPEC_DEFAULT_MAX_PENDING_OUT_BYTES).toBe(DEFAULT_MAX_PENDING_OUT_BYTES);
    expect(spec.SPEC_DEFAULT_MAX_PENDING).toBe(DEFAULT_MAX_PENDING);
    expect(spec.SPEC_DEFAULT_RECONNECT_MIN_US).toBe(DEFAULT_RECONNECT_MIN_US);
  });
});
