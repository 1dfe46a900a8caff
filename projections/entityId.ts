/** One map key for an entity: its namespace (a projection name, never holding NUL) and key. */
export function entityId(namespace: string, key: string): string {
  return `${namespace}\u0000${key}`;
}
