/**
 * The last-known-good files (DESIGN §6): what the broker last confirmed, restored when an apply
 * fails. Read from the checkpoint table once, then kept in step by `record` (the apply loop is the
 * only writer): files of 10,000 users are megabytes, and re-reading them per apply is measurable
 * (bench/apply-latency.ts).
 */
import type { BrokerConfig } from '../../core/state.ts';
import { emptyBrokerConfig, type BrokerConfigModel } from '../../core/broker-config/model.ts';
import type { ApplyResultKind, ApplyResults, GoodFile } from '../sqlite/apply-results.ts';
import { aclGeneration, confAllowsAnonymous, FILE_NAMES, sha256, type BrokerFiles, type FileName } from './broker-files.ts';
import { sharedText } from './shared-text.ts';

export type Files = ReadonlyMap<FileName, string>;

/** The good set, as it would be written now. */
export type Good = Readonly<{
  files: Files;
  stored: ReadonlyMap<string, GoodFile>;
  /** The generation inside the good ACL file (what its probe line names). */
  generation: number | null;
  allowAnonymous: boolean;
  /** The broker configuration (listeners, options, bridges) of the good mosquitto.conf. */
  config: BrokerConfigModel;
  complete: boolean;
}>;

export type GoodFiles = {
  load(): Good;
  /** Disk content that is the good set (for mosquitto.conf, also the copy stored with it). */
  isGood(good: Good, name: FileName, content: string | null | undefined): boolean;
  /** Records a success and makes `onDisk` the good set, in one transaction. */
  record(args: { generation: number; result: Exclude<ApplyResultKind, 'failed'>; onDisk: Files; config: BrokerConfigModel; latencyMs: number; reason: string | null; at: string }): void;
};

/** The row holding the good broker configuration (JSON of the model: references, no secrets). */
export const BROKER_CONFIG_ROW = 'broker_config';

const goodConfig = (stored: ReadonlyMap<string, GoodFile>): BrokerConfigModel => {
  const row = stored.get(BROKER_CONFIG_ROW)?.content;
  if (row === undefined) return emptyBrokerConfig();
  try {
    return { ...emptyBrokerConfig(), ...(JSON.parse(row) as Partial<BrokerConfigModel>) };
  } catch {
    return emptyBrokerConfig();
  }
};

export const createGoodFiles = (deps: Readonly<{ files: BrokerFiles; results: ApplyResults; state: () => BrokerConfig }>): GoodFiles => {
  const { files, results } = deps;
  let stored: Map<string, GoodFile> | null = null;
  let cache: Good | null = null;

  /** The stored rows, each file's text shared with the render and the disk read (./shared-text.ts). */
  const storedRows = (): Map<string, GoodFile> => {
    const rows = results.lastGoodFiles();
    for (const [name, f] of rows) {
      if ((FILE_NAMES as readonly string[]).includes(name)) rows.set(name, { ...f, content: sharedText(name as FileName, f.content) });
    }
    return rows;
  };

  const load = (): Good => {
    stored ??= storedRows();
    const allowAnonymous = confAllowsAnonymous(stored.get('mosquitto_conf')?.content) ?? deps.state().settings.allowAnonymous;
    if (cache && cache.allowAnonymous === allowAnonymous) return cache;
    const config = goodConfig(stored);
    const m = new Map<FileName, string>();
    for (const s of files.specs) {
      // mosquitto.conf is rendered afresh: its listeners must match the running broker's (a reload
      // cannot change them, reference §3.2), which follow the current configuration.
      // The broker configuration is the one last confirmed (its own row, never a secret in it).
      const content = s.name === 'mosquitto_conf' ? files.renderConf(allowAnonymous, config) : stored.get(s.name)?.content;
      if (content !== null && content !== undefined) m.set(s.name, content);
    }
    const complete = stored.has('password_file') && stored.has('acl_file') && files.specs.every((s) => m.has(s.name));
    const generation = aclGeneration(m.get('acl_file')) ?? stored.get('acl_file')?.generation ?? null;
    cache = { files: m, stored, generation: complete ? generation : null, allowAnonymous, config, complete };
    return cache;
  };

  return {
    load,
    isGood: (good, name, content) =>
      content !== null && content !== undefined &&
      (content === good.files.get(name) || (name === 'mosquitto_conf' && content === good.stored.get(name)?.content)),
    record({ generation, result, onDisk, config, latencyMs, reason, at }) {
      const writtenGen = aclGeneration(onDisk.get('acl_file')) ?? generation;
      stored ??= storedRows();
      const current = stored;
      const rows = new Map<string, string>(onDisk);
      const conf = onDisk.get('mosquitto_conf');
      if (conf !== undefined) {
        // Stored without bridge passwords (they live in secrets/ only); restores render it afresh.
        rows.set('mosquitto_conf', files.renderConf(confAllowsAnonymous(conf) ?? false, config, true) ?? conf);
        rows.set(BROKER_CONFIG_ROW, JSON.stringify(config));
      }
      // Only rows that changed: an ACL change must not rewrite a megabyte of password file.
      const changed: GoodFile[] = [...rows]
        .filter(([name, content]) => current.get(name)?.content !== content)
        .map(([name, content]) => ({ name, generation: writtenGen, sha256: sha256(content), content }));
      results.recordGood({
        generation, result, reason, latencyMs, at,
        passwordSha256: sha256(onDisk.get('password_file') ?? ''), aclSha256: sha256(onDisk.get('acl_file') ?? ''),
      }, changed);
      for (const f of changed) current.set(f.name, f);
      if (changed.length) cache = null;
    },
  };
};
