/** `mcm doctor`: checks an installation end to end and says how to fix what is wrong. */
import { ConfigError } from '../../config/load.ts';
import type { CheckResult } from '../../doctor/check-result.ts';
import { invalidConfigCheck, runDoctor } from '../../doctor/run-doctor.ts';
import { COMMON_USAGE, EXIT, loadCliConfig, parseCommandArgs, type CliCommand } from '../command.ts';
import { runningServerSettings } from '../server-settings.ts';

const usage = `Usage: mcm doctor [--json]

Checks the installation and prints one line per check, with how to fix it when it is not right:
  config        the configuration loads and validates
  data-dir      the data dir is writable (or can be created)
  free-space    room left on the data dir's filesystem
  database      mcm.db passes PRAGMA integrity_check and its hash chain verifies
  mosquitto     the mosquitto binary and its version (2.0 / 2.1 notes)
  broker-files  MCM can replace password_file and acl_file; the broker's user can read them
  versions      lines of those files the broker's version reads differently: hashes a 2.0
                broker cannot read (64-byte-salt $7$, argon2id), patterns 2.1 substitutes
                differently (%u/%c not a whole level, ids with / + #)
  broker        the broker answers: tcp, then tls (when mqtt.tls.enabled), then an MQTT CONNECT
                as MCM's service account; a failure names the phase
  reload        the reload strategy can reach the broker (pid alive, command found, docker API)
  https         MCM's HTTPS certificate is valid, matches its key and is not about to expire
Nothing is changed and the broker is not reloaded. Safe while \`mcm server\` runs; then the
checks use that server's settings (its broker address, mode, files and reload strategy, as it
was started, environment variables included), read from <data_dir>/server-settings.json.

Exit status: 0 no check failed (warnings allowed); 1 a check failed; 64 bad arguments.

Options:
  --json              print {"ok": bool, "checks": [{id, status, detail, hint?, phase?}]}
${COMMON_USAGE}`;

const LABEL: Readonly<Record<CheckResult['status'], string>> = { pass: 'ok', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

export const formatCheck = (c: CheckResult): string =>
  `${LABEL[c.status].padEnd(5)} ${c.id.padEnd(13)} ${c.detail}${c.hint && c.status !== 'pass' ? ` — fix: ${c.hint}` : ''}\n`;

export const doctorCommand: CliCommand = {
  name: 'doctor',
  summary: 'check the installation (config, data dir, event log, broker, reload, HTTPS) with fixes',
  usage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, { json: { type: 'boolean' } }, usage);
    if (values.help) {
      io.stdout(usage);
      return EXIT.OK;
    }
    let checks: CheckResult[];
    try {
      const loaded = loadCliConfig(io, values.config);
      const running = runningServerSettings(loaded.config.data_dir, loaded.config);
      const config = running?.config ?? loaded.config;
      const source = running ? `the running server's settings (pid ${running.pid})` : loaded.source;
      checks = await runDoctor({ config, warnings: loaded.warnings, source, env: io.env });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      checks = [invalidConfigCheck(e.problems, e.source)];
    }
    const ok = checks.every((c) => c.status !== 'fail');
    if (values.json) io.stdout(`${JSON.stringify({ ok, checks })}\n`);
    else {
      io.stdout(checks.map(formatCheck).join(''));
      const failed = checks.filter((c) => c.status === 'fail').length;
      io.stdout(ok ? 'no problems found\n' : `${failed} check${failed === 1 ? '' : 's'} failed\n`);
    }
    return ok ? EXIT.OK : EXIT.FAILURE;
  },
};
