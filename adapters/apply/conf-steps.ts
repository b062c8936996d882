/**
 * The apply steps the broker configuration adds (issue "Broker configuration as events"): TLS
 * files before the mosquitto.conf that names them, whether the new conf needs a restart rather
 * than a reload (reference §3.2), and the listener check after it.
 */
import { readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { BrokerConfigModel } from '../../core/broker-config/model.ts';
import { confNeedsRestart } from '../../projections/conf-restart-key.ts';
import { readTextOrNull, writeRenderedFile } from '../files/write-rendered-file.ts';
import type { ApplyLoopDeps } from './apply-loop.ts';
import type { FileName } from './broker-files.ts';
import type { Failure } from './broker-io.ts';

export const createConfSteps = (deps: ApplyLoopDeps) => ({
  /**
   * The certificates and keys the configuration names, into the broker's TLS directory, before
   * the mosquitto.conf that names them; unchanged files are not rewritten. They get the broker
   * files' ownership (readable by the broker's account only, never world-readable).
   */
  writeTls(config: BrokerConfigModel): void {
    const spec = deps.files.specs.find((s) => s.name === 'password_file');
    if (!spec) return;
    for (const f of deps.files.tlsFiles(config)) {
      if (readTextOrNull(f.path) !== f.content) writeRenderedFile(f.path, f.content, spec.ownership());
    }
  },

  /**
   * After a confirmed apply: certificate and key copies the confirmed configuration no longer
   * names are deleted from the broker's TLS directory (a removed certificate's key must not stay
   * readable by the broker). Only `*.crt`/`*.key` files MCM writes there.
   */
  pruneTls(config: BrokerConfigModel): void {
    const dir = deps.files.tlsDir;
    if (dir === null) return;
    const keep = new Set(deps.files.tlsFiles(config).map((f) => basename(f.path)));
    let names: string[];
    try { names = readdirSync(dir); } catch { return; }
    for (const n of names) {
      if (!/\.(crt|key)$/.test(n) || keep.has(n)) continue;
      try { rmSync(join(dir, n), { force: true }); } catch (e) { deps.logger?.warn({ err: (e as Error).message, file: n }, 'cannot remove an unused TLS file'); }
    }
  },

  /** The conf differs from the one the broker started with in what a reload can't apply. */
  restartNeeded(wanted: ReadonlyMap<FileName, string>): boolean {
    const started = deps.startedConf?.() ?? null;
    const next = wanted.get('mosquitto_conf');
    return started !== null && next !== undefined && confNeedsRestart(started, next);
  },

  /** Every operator listener answers as configured; a Failure naming those that do not. */
  async listenersAnswer(config: BrokerConfigModel): Promise<Failure | null> {
    if (!deps.probeListeners || config.listeners.length === 0) return null;
    const why = await deps.probeListeners(config);
    return why === null ? null : { reason: `listener check failed: ${why}`, failOpen: false };
  },
});
