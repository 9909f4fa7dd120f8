/** The lab the `netlab` command works on: every registered stack (scenarios/stacks.ts). */
import { Lab } from '../scenarios/lab.js';
import { STACKS } from '../scenarios/stacks.js';

export const LAB = new Lab(STACKS);
