import { handleCommand } from '../../core/handle-command.ts';
import type { Clock, EventStore } from '../../core/ports.ts';
import type { Logger } from '../logging/logger.ts';
import type { ApplyLoop } from './apply-loop.ts';

/**
 * `--force-takeover` (DESIGN §10): adopts the foreign files on disk now through the one command
 * path, so the first apply replaces them (keeping each original as `<file>.pre-mcm`).
 */
export const takeOver = (applyLoop: Pick<ApplyLoop, 'foreignFiles'>, store: EventStore, clock: Clock, logger: Pick<Logger, 'info' | 'warn'>): void => {
  const foreign = applyLoop.foreignFiles();
  if (foreign.length === 0) {
    logger.info({}, '--force-takeover: no foreign broker files to take over');
    return;
  }
  handleCommand({ store, clock }, {
    type: 'TakeOverBrokerFiles',
    data: { files: foreign.map((f) => ({ file: f.file, sha256: f.sha256, path: f.path })) },
  }, { actor: { kind: 'system', id: 'force-takeover' } });
  logger.warn({ files: foreign }, `--force-takeover: taking over ${foreign.map((f) => `${f.file} ${f.path}`).join(' and ')}; the originals are kept as <file>.pre-mcm`);
};
