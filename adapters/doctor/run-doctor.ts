/**
 * `mcm doctor`'s checks, in the order an operator would fix them: configuration, data dir and
 * event log, the broker binary and its files, the broker itself, the reload path, HTTPS.
 */
import type { Config } from '../config/config.ts';
import { checkBroker } from './check-broker.ts';
import { checkBrokerFiles } from './check-broker-files.ts';
import { checkBrokerVersions } from './check-broker-versions.ts';
import { checkDataDirWritable, checkFreeSpace } from './check-data-dir.ts';
import { checkEventLog } from './check-database.ts';
import { checkHttps } from './check-https.ts';
import { checkMosquitto } from './check-mosquitto.ts';
import { checkReload } from './check-reload.ts';
import { fail, pass, warn, type CheckResult } from './check-result.ts';

export type DoctorInput = Readonly<{
  config: Config;
  /** From loadConfig: worth a warning, not a failure. */
  warnings: readonly string[];
  /** The config file, or null for built-in defaults. */
  source: string | null;
  env: NodeJS.ProcessEnv;
  now?: Date;
}>;

export const configCheck = (input: Pick<DoctorInput, 'warnings' | 'source'>): CheckResult => {
  const from = input.source ?? 'built-in defaults and environment';
  if (input.warnings.length === 0) return pass('config', `valid (${from})`);
  return warn('config', `valid (${from}) with warnings: ${input.warnings.join('; ')}`, 'see mcm.example.yaml for the keys involved');
};

/** The result for a configuration that does not load: nothing else can be checked. */
export const invalidConfigCheck = (problems: readonly string[], source: string | null): CheckResult =>
  fail('config', `invalid (${source ?? 'environment'}): ${problems.join('; ')}`, '`mcm config validate` lists every problem with its path; see mcm.example.yaml');

const guard = async (id: string, run: () => CheckResult | Promise<CheckResult>): Promise<CheckResult> => {
  try {
    return await run();
  } catch (e) {
    return fail(id, `the check itself failed: ${(e as Error).message}`, 'run with MCM_LOG_LEVEL=debug and report it');
  }
};

export const runDoctor = async (input: DoctorInput): Promise<CheckResult[]> => {
  const { config, env } = input;
  return [
    configCheck(input),
    await guard('data-dir', () => checkDataDirWritable(config.data_dir)),
    await guard('free-space', () => checkFreeSpace(config.data_dir)),
    await guard('database', () => checkEventLog(config.data_dir)),
    await guard('mosquitto', () => checkMosquitto(config, env)),
    await guard('broker-files', () => checkBrokerFiles(config)),
    await guard('versions', () => checkBrokerVersions(config)),
    await guard('broker', () => checkBroker(config)),
    await guard('reload', () => checkReload(config, env)),
    await guard('https', () => checkHttps(config, input.now)),
  ];
};
