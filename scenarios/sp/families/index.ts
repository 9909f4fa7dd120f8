/**
 * Every invariant family `netlab run` knows, in report order. A family module registers its checks
 * (scenarios/checks.ts defineCheck) when imported, so importing this registers them all.
 */
import type { FamilySpec, PropertySpec } from '../catalog.js';
import { BACKPRESSURE } from './backpressure.js';
import { FRAMING } from './framing.js';
import { HANDSHAKE } from './handshake.js';
import { OPTIONS } from './options.js';
import { IMPOLITE } from './impolite.js';
import { REDIAL } from './redial.js';
import { MODEL } from './model.js';
import { RESEND } from './resend.js';
import { TIMING } from './timing.js';

export const FAMILIES: readonly FamilySpec[] = [
  FRAMING,
  HANDSHAKE,
  REDIAL,
  RESEND,
  BACKPRESSURE,
  TIMING,
  OPTIONS,
  IMPOLITE,
  MODEL,
];

export function allProperties(): PropertySpec[] {
  return FAMILIES.flatMap((f) => f.properties);
}
