// Types of eslint/boundaries.js (plain JS: the ESLint config loads it without a build step).
import type { ESLint } from 'eslint';

export interface Zone {
  kind: 'runtime' | 'stack-impl' | 'stack-lab' | 'registry' | 'engine' | 'bin' | 'other';
  stack?: string;
}
export function stackIds(root: string): string[];
export function zoneOf(path: string, stacks: readonly string[]): Zone;
export function violation(from: string, to: string, stacks: readonly string[]): string | null;
export function isOracleFile(path: string, stacks: readonly string[]): boolean;
export function oracleViolation(from: string, to: string, stacks: readonly string[]): string | null;
declare const plugin: ESLint.Plugin;
export default plugin;
