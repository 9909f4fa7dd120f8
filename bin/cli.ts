/**
 * The `netlab` command line. Thin: parses flags and calls sim/, scenarios/, bench/. Every command
 * exits 0 on success, 1 on a finding, 2 on a usage or internal error.
 */
import { readFileSync } from 'node:fs';
import { benchCommand } from './commands/bench.js';
import { EXIT_OK, EXIT_USAGE, UsageError, type Command } from './commands/common.js';
import { catCommand } from './commands/cat.js';
import { demoCommand } from './commands/demo.js';
import { interopCommand } from './commands/interop.js';
import { fuzzCommand } from './commands/fuzz.js';
import { mergeCommand } from './commands/merge.js';
import { parityCommand } from './commands/parity.js';
import { proxyCommand } from './commands/proxy.js';
import { reportCommand } from './commands/report.js';
import { replayCommand, runCommand } from './commands/run.js';
import { serveCommand } from './commands/serve.js';

const COMMANDS: readonly Command[] = [
  runCommand,
  replayCommand,
  parityCommand,
  mergeCommand,
  reportCommand,
  demoCommand,
  catCommand,
  proxyCommand,
  interopCommand,
  fuzzCommand,
  benchCommand,
  serveCommand,
];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: netlab COMMAND [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `netlab COMMAND --help` for the options of one command.',
    'Exit codes: 0 success, 1 a finding, 2 a usage or internal error.',
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version' || name === 'version') {
    process.stdout.write(`netlab ${version()}\n`);
    return EXIT_OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    process.stderr.write(`netlab: unknown command '${name}'\n\n${help()}`);
    return EXIT_USAGE;
  }
  // netlab cat parses its own --help, as nngcat does (it exits 1, and `--data -h` is data).
  if (command !== catCommand && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(command.usage + '\n');
    return EXIT_OK;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`netlab ${name}: ${e.message}\n\n${command.usage}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(
      `netlab ${name}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    return EXIT_USAGE;
  }
}

process.exitCode = await main(process.argv.slice(2));
