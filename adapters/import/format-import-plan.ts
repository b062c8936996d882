/**
 * An import plan in words for `mcm import`: the files, counts, the first differences and every
 * warning. A plan of 100,000 users stays a screenful plus its warnings (issue "Adopt an existing
 * Mosquitto": summarise, do not print 100,000 lines).
 */
import type { OptionValue } from '../../core/broker-config/model.ts';
import type { ImportSummary } from '../../core/import/import-types.ts';
import { describeBridge, describeListener } from '../../core/import/plan-broker-conf.ts';
import type { BrokerConfPlan } from './broker-conf-import.ts';
import { willAppend, type ImportApplyOutcome, type ImportPlanOutcome } from './run-import.ts';

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

const where = (x: { file: string; line?: number }): string => (x.line === undefined || x.line === 0 ? x.file : `${x.file}:${x.line}`);

const countsOf = (s: ImportSummary): string[] => {
  const users = [
    s.users_created > 0 ? `${s.users_created} created` + (s.users_without_password > 0 ? ` (${s.users_without_password} without a password: ACL file only)` : '') : '',
    s.users_password_changed > 0 ? `${s.users_password_changed} password${s.users_password_changed === 1 ? '' : 's'} changed` : '',
    s.users_enabled > 0 ? `${s.users_enabled} enabled` : '',
    s.users_disabled > 0 ? `${s.users_disabled} disabled (not in the files)` : '',
  ].filter((x) => x !== '');
  const rules = [
    s.rules_added > 0 ? `${s.rules_added} added` : '',
    s.rules_removed > 0 ? `${s.rules_removed} removed` : '',
    s.roles_revoked > 0 ? `${plural(s.roles_revoked, 'role')} revoked` : '',
  ].filter((x) => x !== '');
  return [
    ...(users.length > 0 ? [`  users: ${users.join(', ')}`] : []),
    ...(rules.length > 0 ? [`  ACL rules: ${rules.join(', ')}`] : []),
    ...(s.allow_anonymous_changed ? ['  allow_anonymous: changed to what mosquitto.conf says'] : []),
  ];
};

const optionText = (name: string, v: OptionValue): string => `${name} ${Array.isArray(v) ? v.join(' ') || '(none)' : String(v)}`;

/** The broker configuration a mosquitto.conf sets: what it holds, then what changes. */
const brokerLines = (b: BrokerConfPlan): string[] => {
  const c = b.config;
  const out = ['broker configuration (from mosquitto.conf):'];
  out.push(`  listeners (${c.listeners.length}):`, ...c.listeners.map((l) => `    ${describeListener(l)}`));
  const options = Object.keys(c.options).sort().map((k) => optionText(k, c.options[k] as OptionValue));
  out.push(`  options: ${options.length > 0 ? options.join(', ') : '(broker defaults)'}`);
  if (c.bridges.length > 0) out.push(`  bridges (${c.bridges.length}):`, ...c.bridges.map((x) => `    ${describeBridge(x)}`));
  if (b.certificates.length > 0) {
    out.push(`  certificates (${b.certificates.length}, stored in secrets/):`);
    for (const x of b.certificates) out.push(`    ${x.name}: ${x.is_ca ? 'CA ' : ''}${x.subject}, until ${x.not_after.slice(0, 10)}${x.has_key ? ', with its key' : ''}`);
  }
  if (c.passthrough.length > 0) {
    out.push(`  passthrough (${c.passthrough.length}, not managed by MCM: kept verbatim at the end of mosquitto.conf):`, ...c.passthrough.map((l) => `    ${l}`));
  }
  if (!b.changes) out.push('  no change: MCM\'s broker configuration is this already');
  else if (b.differences.length > 0) {
    out.push('  changes:');
    for (const d of b.differences) out.push(`    ${d.text}${d.line === undefined ? '' : ` (line ${d.line})`}`);
  }
  return out;
};

export const formatImportPlan = (o: ImportPlanOutcome): string => {
  const out: string[] = [];
  const broker = o.broker_version === null
    ? 'broker version unknown: judged for both 2.0 and 2.1'
    : `broker mosquitto ${o.broker_version}`;
  out.push(`import plan (on seq ${o.seq}; ${broker})`);
  for (const f of o.files) {
    const state = f.owned ? "MCM's own file already" : o.adopt.some((a) => a.file === f.file) ? 'to adopt' : 'adopted already';
    out.push(`  ${f.file}: ${f.path ?? '(uploaded)'}  sha256 ${f.sha256.slice(0, 16)}…  ${state}`);
  }
  out.push(`in the files: ${plural(o.summary.users_in_files, 'user')}, ${plural(o.summary.rules_in_files, 'ACL rule')}`);
  const counts = countsOf(o.summary);
  if (counts.length > 0) {
    out.push('changes:', ...counts);
  }
  if (o.differences.length > 0) {
    const shown = o.differences.length < o.differences_total ? `first ${o.differences.length} of ${o.differences_total}` : `${o.differences_total}`;
    out.push(`differences (${shown}):`);
    // Each difference names its file line itself (`+ user alice (password from line 3)`).
    for (const d of o.differences) out.push(`  ${d.text}`);
    if (o.differences_total > o.differences.length) out.push(`  … and ${o.differences_total - o.differences.length} more (counted above)`);
  }
  if (o.broker_config !== undefined) out.push(...brokerLines(o.broker_config));
  if (o.warnings.length > 0) {
    out.push(`warnings (${o.warnings.length}):`);
    for (const w of o.warnings) out.push(`  ${where(w).padEnd(18)} ${w.code}: ${w.message}`);
  }
  if (o.adopt.length > 0) {
    out.push(`adopt: ${o.adopt.map((a) => a.file).join(', ')} — MCM then renders these files itself; the originals are kept beside them as <file>.pre-mcm`);
  }
  if (!willAppend(o)) out.push(`nothing to import: MCM already decides every case as these files do${o.broker_config ? ' and has this broker configuration' : ''}`);
  else if (!o.changes) out.push('no change to users or rules: importing records the files as adopted');
  return `${out.join('\n')}\n`;
};

/** The line after a successful apply. */
export const formatApplied = (o: ImportApplyOutcome): string => {
  if (o.events_count === 0) return 'imported: nothing to append\n';
  const first = o.seq - o.events_count + 1;
  return `imported: ${plural(o.events_count, 'event')} appended as one batch (seq ${first === o.seq ? o.seq : `${first}-${o.seq}`})\n`;
};
