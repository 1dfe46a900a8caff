import { readdirSync, readFileSync } from 'node:fs';
import { statCpu, type CpuTimes } from '../base/threadCpu.js';

export type { CpuTimes };

/**
 * CPU seconds another process has used so far, every thread of it (user and system), or
 * undefined where /proc cannot tell (not Linux).
 */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  const times = pid === undefined ? undefined : statCpu(`/proc/${pid}/stat`);
  return times && times.user + times.system;
}

/** User and system CPU seconds of a process, every thread of it; undefined where /proc cannot tell. */
export function processCpu(pid: number): CpuTimes | undefined {
  return statCpu(`/proc/${pid}/stat`);
}

/** User and system CPU seconds of each live thread of a process, by thread id (empty where /proc cannot tell). */
export function threadsCpu(pid: number): Map<number, CpuTimes> {
  const threads = new Map<number, CpuTimes>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  for (const tid of tids) {
    const times = statCpu(`/proc/${pid}/task/${tid}/stat`);
    if (times) threads.set(Number(tid), times);
  }
  return threads;
}

/** The resident set of a process, bytes; undefined where /proc cannot tell. */
export function residentBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
