// The thin shell every stage main.ts shares: positional paths from argv, --help, and one-line errors.
import { UserError } from './errors.ts';

/**
 * Returns the positional paths of `usage` ("stage <in> <out>"); prints usage on --help or a wrong
 * count. `--params FILE` is consumed by loadParams and skipped here.
 */
export function cliPaths(usage: string, argv = process.argv.slice(2)): string[] {
  const names = usage.split(/\s+/).slice(1);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`usage: npx tsx stages/${usage.split(' ')[0]}/main.ts ${names.join(' ')} [--params FILE]\n`);
    process.exit(0);
  }
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--params') i++;
    else positional.push(argv[i]!);
  }
  const required = names.filter((n) => !n.startsWith('['));
  if (positional.length < required.length || positional.length > names.length) {
    throw new UserError(`usage: ${usage} (got ${positional.length} paths)`);
  }
  return positional;
}

/** Runs a stage's main; a UserError prints as one line, anything else with its stack. Exit 1 either way. */
export function runStage(name: string, main: () => Promise<void>): void {
  main().then(
    () => undefined,
    (e: unknown) => {
      if (e instanceof UserError) process.stderr.write(`[${name}] error: ${e.message}\n`);
      else process.stderr.write(`[${name}] internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
