/**
 * V8 flags the service is started with. The serving thread keeps the newest view values
 * and entity states, each replaced about when it has outlived two scavenges; with V8's
 * small first old-space limit that meant a major GC every 1.2 s at 1,000 events/s, and
 * those pauses made the effect-after-cause tail. With a 256 MB first limit it collects
 * three times in 37 s. V8 reads the flag only at process start and Node refuses it in
 * NODE_OPTIONS, so package.json's start and bench scripts and bin/foldline.js's first line
 * spell it too (they cannot import this).
 */
export const serviceNodeFlags: readonly string[] = ['--initial-old-space-size=256'];

/** The service flags this process was started without. */
export function missingServiceFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return serviceNodeFlags.filter((flag) => !execArgv.includes(flag));
}
