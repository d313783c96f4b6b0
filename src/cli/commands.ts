import type { Command } from 'commander';
import { features } from '../features';

/** Each feature's CLI registration, from its `feature.cli`. */
export const cliCommands: Array<(program: Command) => void> = features.flatMap((f) => (f.cli ? [f.cli.bind(f)] : []));
