/**
 * The import of an existing Mosquitto's files (issue "Adopt an existing Mosquitto"): what the
 * parsers find, what the plan says and what the command carries. Pure data, shared by core,
 * the CLI, HTTP and the UI; the adapters read the files and hash them (core never does I/O).
 */

/** The Mosquitto release line the files are judged for (reference §8); null = unknown (warn for both). */
export type BrokerLine = '2.0' | '2.1' | null;

/** The two files MCM renders and may adopt. */
export type BrokerFileKind = 'password_file' | 'acl_file';

/** A line the broker (2.0 or 2.1) would refuse or misread, or that MCM cannot represent: refuses the import. */
export type ImportProblem = Readonly<{ file: BrokerFileKind | 'mosquitto_conf'; line: number; message: string }>;

/** Something the operator must know; never refuses the import. `line` is absent for file-wide warnings. */
export type ImportWarning = Readonly<{
  file: BrokerFileKind | 'mosquitto_conf';
  line?: number;
  /** Stable code, e.g. `hash_unreadable_by_2_0`, `pattern_substitution_2_1`, `comment_dropped`. */
  code: string;
  message: string;
}>;

/** One file's text as the adapter read it, and where from. `sha256` is hex of its UTF-8 bytes. */
export type ImportFile = Readonly<{ text: string; sha256: string; path?: string | null }>;

/** The input of a plan and of the ImportBrokerFiles command (file texts are never recorded in events). */
export type ImportInput = Readonly<{
  passwordFile?: ImportFile | null;
  aclFile?: ImportFile | null;
  /** allow_anonymous found in a mosquitto.conf (`--conf`), when it says so at the global level. */
  allowAnonymous?: boolean | null;
  /** MCM's own service account: its lines in the files are MCM's to render, not imported. */
  serviceAccount: string;
  brokerLine: BrokerLine;
  /**
   * The files the adapter found to be MCM's own already (byte-equal to the last file MCM wrote and
   * saw confirmed): they need no adoption record. The others get one (BrokerFilesAdopted).
   */
  owned?: readonly BrokerFileKind[];
}>;

/** Counts for large files: the plan of 100,000 users is a summary, not 100,000 lines. */
export type ImportSummary = {
  users_in_files: number;
  rules_in_files: number;
  users_created: number;
  users_password_changed: number;
  users_enabled: number;
  users_disabled: number;
  /** Users that exist only in the acl_file (no password line): imported without a password. */
  users_without_password: number;
  rules_added: number;
  rules_removed: number;
  roles_revoked: number;
  allow_anonymous_changed: boolean;
};

/** A difference in words, e.g. `+ user alice (password from line 3)`, `+ user:alice read a/# (acl line 7)`. */
export type ImportDifference = Readonly<{ file: BrokerFileKind | 'mosquitto_conf'; line?: number; text: string }>;

export type ImportPlan = Readonly<{
  /**
   * True when applying would append any event, the adoption record included (a foreign file must
   * be adopted before MCM may replace it). False after a successful import of the same files.
   */
  changes: boolean;
  summary: ImportSummary;
  /** The first differences (at most `limit` asked of planImport), in file order. */
  differences: readonly ImportDifference[];
  differences_total: number;
  /** The files applying would adopt (record as MCM's to replace), with the hash of the text planned on. */
  adopt: readonly Readonly<{ file: BrokerFileKind; sha256: string; path: string | null }>[];
  /** Every warning, however many. */
  warnings: readonly ImportWarning[];
}>;
