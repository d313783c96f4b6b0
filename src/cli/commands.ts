import type { Command } from 'commander';

/** Each feature's cli.ts registers its commands here. */
export const cliCommands: Array<(program: Command) => void> = [];
