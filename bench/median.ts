/** The middle value (the upper one of an even count): what a trial gives when the VM is neither at its fastest nor its slowest. */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}
