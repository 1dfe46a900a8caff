/**
 * V8 flags the service is started with (docs/operations.md has the measurements).
 *
 * `--initial-old-space-size=256`: the serving thread keeps the newest view values and entity
 * states, each replaced about when it has outlived two scavenges; with V8's small first
 * old-space limit that meant a major GC every 1.2 s at 1,000 events/s, and those pauses made
 * the effect-after-cause tail. With a 256 MB first limit it collects three times in 37 s.
 *
 * `--no-allocation-site-pretenuring`: in one live bench run out of four to ten, the push
 * part's scavenges promoted 100–137 MB per 3 s instead of 0.3–10, for the whole run, and the
 * gateway spent 1.4–1.7 times the CPU per push of a bare server; without pretenuring, 12 runs
 * of 12 promoted 0.2–2.6 MB. The likely mechanism: values that survive a scavenge lead V8 to
 * allocate objects of their kind in the old space directly, where they die at once but hold
 * the young objects they point to through every scavenge until a major GC.
 *
 * V8 reads these only at process start and Node refuses them in NODE_OPTIONS, so
 * package.json's start and bench scripts and bin/foldline.js's first line spell them too
 * (they cannot import this).
 */
export const serviceNodeFlags: readonly string[] = ['--initial-old-space-size=256', '--no-allocation-site-pretenuring'];

/** The service flags this process was started without. */
export function missingServiceFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return serviceNodeFlags.filter((flag) => !execArgv.includes(flag));
}
