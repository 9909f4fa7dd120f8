/**
 * Every invariant family `netlab run` knows, in report order. A family module registers its checks
 * (scenarios/checks.ts defineCheck) when imported, so importing this registers them all.
 */
import type { FamilySpec, PropertySpec } from '../catalog.js';
import { BACKPRESSURE } from './backpressure.js';
import { FRAMING } from './framing.js';
import { HANDSHAKE } from './handshake.js';
import { REDIAL } from './redial.js';
import { RESEND } from './resend.js';
// The reference models' checks (model.*), listed by the properties above.
import '../models/checks.js';

export const FAMILIES: readonly FamilySpec[] = [FRAMING, HANDSHAKE, REDIAL, RESEND, BACKPRESSURE];

export function allProperties(): PropertySpec[] {
  return FAMILIES.flatMap((f) => f.properties);
}
