/** Types of the browser module tokens.js, for the tests that hold it to ledger/token.ts. */
export function tokenReflects(token: string, receipts: readonly { stream: string; shard: number; seq: string }[]): boolean;
