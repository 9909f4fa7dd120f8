/** The engine's catalog and case-file types, specialised to SP scenarios. */
import type { FamilySpec as EngineFamilySpec, PropertySpec as EnginePropertySpec } from '../catalog.js';
import type { CaseFile as EngineCaseFile, PropertyOutcome as EnginePropertyOutcome } from '../property.js';
import type { Scenario } from './model.js';

export type PropertySpec = EnginePropertySpec<Scenario>;
export type FamilySpec = EngineFamilySpec<Scenario>;
export type CaseFile = EngineCaseFile<Scenario>;
export type PropertyOutcome = EnginePropertyOutcome<Scenario>;
