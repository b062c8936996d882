/**
 * The first render of a large state, spread over turns of the event loop (issue 14): at 100,000
 * users rendering and checking both files takes about a second of CPU, during which a server
 * that has started listening could answer nothing — not even /healthz. Each turn renders and
 * checks `budget` users (a few milliseconds); the first apply then reuses their blocks and
 * verdicts. Appends between turns are safe: the renderer reads what they touched from the
 * tracker's journal (projections/incremental-files.ts).
 */
import type { BrokerConfig } from '../../core/state.ts';
import type { BrokerFiles } from './broker-files.ts';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export const warmUp = async (files: Pick<BrokerFiles, 'warm'>, state: () => BrokerConfig, budget = 1000): Promise<void> => {
  while (!files.warm(state(), budget)) await nextTurn();
};
