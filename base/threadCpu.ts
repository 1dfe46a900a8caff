import { readFileSync, readlinkSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times: 100 on every Linux this runs on (USER_HZ). */
const ticksPerSecond = 100;

/** CPU seconds spent in user space and in the kernel. */
export interface CpuTimes {
  user: number;
  system: number;
}

/** The CPU times of a /proc `stat` file (of a process or a thread); undefined where it cannot be read. */
export function statCpu(path: string): CpuTimes | undefined {
  try {
    // Fields after the command, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
    const text = readFileSync(path, 'utf8');
    const fields = text.slice(text.lastIndexOf(') ') + 2).split(' ');
    return { user: Number(fields[11]) / ticksPerSecond, system: Number(fields[12]) / ticksPerSecond };
  } catch {
    return undefined;
  }
}

/** The kernel's id of the calling thread; undefined where /proc cannot tell (not Linux). */
export function currentThreadId(): number | undefined {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return undefined;
  }
}

/** CPU times of a thread of this process, by its kernel id. */
export function threadCpu(tid: number): CpuTimes | undefined {
  return statCpu(`/proc/self/task/${tid}/stat`);
}
