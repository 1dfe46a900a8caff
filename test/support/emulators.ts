import { afterAll, beforeAll } from 'vitest';
import { startDynalite, startKinesalite, type Emulator } from '../../bench/emulators.js';

/** An emulator started before a test file's tests and closed after them: its endpoint, once started. */
function useEmulator(start: () => Promise<Emulator>): () => string {
  let emulator: Emulator | undefined;
  beforeAll(async () => {
    emulator = await start();
  });
  afterAll(async () => {
    await emulator?.close();
  });
  return () => {
    if (!emulator) throw new Error('the emulator is started before the tests');
    return emulator.endpoint;
  };
}

export const useDynalite = (): (() => string) => useEmulator(startDynalite);
export const useKinesalite = (): (() => string) => useEmulator(startKinesalite);
