/**
 * V8 flags the service is started with (docs/operations.md says why; the measurements are in
 * docs/benchmarks.md).
 *
 * `--initial-old-space-size=256`: the serving thread keeps the newest view values and entity
 * states, each replaced about when it has outlived two scavenges; with V8's small first
 * old-space limit that meant frequent major GCs under steady load, and those pauses made the
 * effect-after-cause tail. With a 256 MB first limit major GCs are rare.
 *
 * `--no-allocation-site-pretenuring`: in some live bench runs the push part's scavenges
 * promoted far more than usual for the whole run, and the gateway spent much more CPU per
 * push than a bare server; without pretenuring no run did. The likely mechanism: values that
 * survive a scavenge lead V8 to allocate objects of their kind in the old space directly,
 * where they die at once but hold the young objects they point to through every scavenge
 * until a major GC.
 *
 * V8 reads these only at process start and Node refuses them in NODE_OPTIONS, so
 * package.json's start and bench scripts and bin/foldline.js's first line spell them too
 * (they cannot import this); bin/foldline.js, run by a node without them, runs node again
 * with its first line's.
 */
export const serviceNodeFlags: readonly string[] = ['--initial-old-space-size=256', '--no-allocation-site-pretenuring'];

/** The service flags this process was started without. */
export function missingServiceFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return serviceNodeFlags.filter((flag) => !execArgv.includes(flag));
}
