/**
 * Ownership of the broker files (DESIGN §10 "Ownership"): a password_file or acl_file on disk that
 * MCM did not write is foreign. While foreign files are found, adoption is required: the apply
 * worker writes nothing to the broker's files and each apply ends `adoption_required`, until
 * `mcm import` or `--force-takeover` adopts them (state.adoptedFiles) or they are gone. Keeping
 * each adopted original as `<file>.pre-mcm` is broker-io.ts's, at the first write over it.
 */
import { performance } from 'node:perf_hooks';
import type { BrokerConfig } from '../../core/state.ts';
import { fileSha256 } from '../files/write-rendered-file.ts';
import type { ApplyLoopDeps } from './apply-loop.ts';
import { adoptionMessage, type ApplyOutcome, type ForeignFile } from './apply-status.ts';
import { sameContent, sha256, type BrokerFiles, type FileName, type FileSpec, type RenderedFiles } from './broker-files.ts';
import type { GoodFiles } from './good-files.ts';
import type { SecurityReport } from './security-report.ts';

export type OwnershipDeps = Readonly<{
  files: Pick<BrokerFiles, 'specs'>;
  state: () => BrokerConfig;
  goodFiles: Pick<GoodFiles, 'load' | 'isGood'>;
  /** MCM's own unconfirmed write (broker-io.ts): not foreign. */
  ownWrite(name: FileName, content: string | null | undefined): boolean;
  security: SecurityReport;
  logger?: ApplyLoopDeps['logger'];
}>;

export type Ownership = {
  /** The foreign files on disk, given the render MCM would write now. */
  foreignFiles(disk: ReadonlyMap<FileName, string | null>, candidate: RenderedFiles | null): ForeignFile[];
  /** An import or takeover adopted exactly these bytes: replacing them is the point, not drift. */
  isAdopted(spec: FileSpec, content: string | null | undefined): boolean;
  /** Makes `foreign` the files adoption waits for (none: MCM writes again); one security event per content. */
  setAdoption(foreign: ForeignFile[], when: string): void;
  /** The foreign files while adoption is required, else null. */
  adoption(): ForeignFile[] | null;
  /** An apply that wrote nothing because foreign files are on disk. */
  adoptionOutcome(generation: number, started: number): ApplyOutcome;
};

export const createOwnership = (deps: OwnershipDeps): Ownership => {
  const { files, goodFiles, security } = deps;
  /**
   * Foreign files found at start (DESIGN §10 "Ownership"): while set, MCM writes nothing to the
   * broker's files — no apply, no restore, no drift repair — and sends no reload or probe.
   */
  let adoption: ForeignFile[] | null = null;
  /** Contents already reported as needing adoption: one security event per content. */
  const adoptionReported = new Set<string>();

  return {
    /**
     * The password_file / acl_file on disk that MCM did not write (DESIGN §10): not the last-known-good
     * bytes, not MCM's own unconfirmed write, not what it would render now, and not adopted (sha256
     * in state.adoptedFiles). An empty or missing file holds nothing to lose.
     */
    foreignFiles(disk, candidate) {
      const good = goodFiles.load();
      const adopted = deps.state().adoptedFiles ?? {};
      const out: ForeignFile[] = [];
      for (const s of files.specs) {
        if (s.name === 'mosquitto_conf') continue;
        const now = disk.get(s.name);
        if (now === null || now === undefined || now.length === 0) continue;
        if (goodFiles.isGood(good, s.name, now) || deps.ownWrite(s.name, now) || sameContent(s.name, now, candidate?.get(s.name))) continue;
        const h = fileSha256(s.path) ?? sha256(now);
        if (adopted[s.name]?.sha256 === h) continue;
        out.push({ file: s.name, path: s.path, sha256: h });
      }
      return out;
    },

    isAdopted(spec, content) {
      if (spec.name === 'mosquitto_conf' || content === null || content === undefined) return false;
      const adopted = deps.state().adoptedFiles?.[spec.name];
      return adopted !== undefined && (fileSha256(spec.path) ?? sha256(content)) === adopted.sha256;
    },

    setAdoption(foreign, when) {
      if (foreign.length === 0) {
        if (adoption) deps.logger?.info({ files: adoption.map((f) => f.file) }, 'the foreign broker files are adopted or gone: MCM writes the broker files again');
        adoption = null;
        return;
      }
      adoption = foreign;
      const key = foreign.map((f) => `${f.file}:${f.sha256}`).join(',');
      if (adoptionReported.has(key)) return;
      adoptionReported.add(key);
      security('files.adoption_required', 'warning', `${adoptionMessage(foreign)} (${when})`, { files: foreign, action: 'mcm import' });
    },

    adoption: () => adoption,

    adoptionOutcome: (generation, started) => ({
      generation, result: 'adoption_required', reason: adoptionMessage(adoption ?? []),
      latencyMs: performance.now() - started, wrote: false, reloaded: false,
    }),
  };
};
