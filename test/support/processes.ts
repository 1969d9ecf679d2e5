import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Whether a process is alive (Linux, from /proc); a zombie counts as dead. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Live processes of a local stack's jobs, by its data dir (their environment names it in SX_OUTPUT_DIR). */
export function jobProcesses(dataDir: string): number[] {
  const marker = `SX_OUTPUT_DIR=${join(dataDir, 'compute', 'jobs')}/`;
  return readdirSync('/proc').flatMap((name) => {
    if (!/^\d+$/.test(name) || !isAlive(Number(name))) return [];
    try {
      return readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').some((e) => e.startsWith(marker)) ? [Number(name)] : [];
    } catch {
      return [];
    }
  });
}
