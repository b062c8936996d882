/**
 * Runs bin/mcm as a child process, as an operator would: in `cwd`, with only PATH, HOME and the
 * given variables (plus NODE_V8_COVERAGE under c8, so the CLI's code counts towards coverage);
 * `stdin` is piped in when given.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const MCM_BIN = fileURLToPath(new URL('../../bin/mcm', import.meta.url));

export type CliRun = { code: number | null; stdout: string; stderr: string };

export type CliRunOptions = { cwd: string; env?: Record<string, string>; stdin?: string };

export const runMcm = (args: string[], opts: CliRunOptions, bin: string = MCM_BIN): Promise<CliRun> =>
  new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      cwd: opts.cwd,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: opts.cwd,
        ...(process.env['NODE_V8_COVERAGE'] ? { NODE_V8_COVERAGE: process.env['NODE_V8_COVERAGE'] } : {}),
        ...opts.env,
      },
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);
  });
