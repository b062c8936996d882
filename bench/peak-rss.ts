/**
 * Preloaded into a measured child (`node --import ./bench/peak-rss.ts …`): at exit, writes the
 * process's peak resident set size (KiB, getrusage ru_maxrss) to the file named by MCM_BENCH_RSS_FILE.
 */
import { writeFileSync } from 'node:fs';

const target = process.env['MCM_BENCH_RSS_FILE'];
if (target) process.on('exit', () => { writeFileSync(target, String(process.resourceUsage().maxRSS)); });
