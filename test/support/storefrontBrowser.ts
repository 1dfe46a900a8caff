import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { retailDomain } from '../../retail/domain.js';
import { startService, type Service } from '../../service/service.js';

// Debian's chromium, which `.ci/run` installs; a downloaded browser is never used.
const chromiumPath = '/usr/bin/chromium';
const chromiumArgs = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const artifacts = fileURLToPath(new URL('../artifacts/', import.meta.url));

/** The demo service with auth on and Chromium, for the storefront's browser tests. */
export interface StorefrontRig {
  service: Service;
  browser: Browser;
  close(): Promise<void>;
}

/** A test file's rig: started before its tests, closed after them; the function answers it. */
export function storefrontRig(authSecret: string): () => StorefrontRig {
  let rig: StorefrontRig | undefined;
  beforeAll(async () => {
    rig = await startStorefront(authSecret);
  });
  afterAll(async () => {
    await rig?.close();
  });
  return () => rig!;
}

async function startStorefront(authSecret: string): Promise<StorefrontRig> {
  const dataDir = await mkdtemp(join(tmpdir(), 'foldline-e2e-'));
  const service = await startService({ domain: retailDomain, dataDir, host: '127.0.0.1', port: 0, shards: 4, demo: true, authSecret, logger: pino({ level: 'silent' }) });
  // The pages should meet the whole demo history folded, not a backlog that moves the cart under them.
  await service.runtime.catchUp();
  const browser = await launchChromium().catch(async (error: unknown) => {
    await service.close();
    throw error;
  });
  return {
    service,
    browser,
    async close() {
      await browser.close();
      await service.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Headless Chromium for the storefront's browser tests. */
async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium is missing at ${chromiumPath}: install Debian's package (apt-get install chromium; .ci/run does this). This test never downloads a browser.`);
  }
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
}

/** Where a test keeps a screenshot (test/artifacts/). */
export async function artifactPath(name: string): Promise<string> {
  await mkdir(artifacts, { recursive: true });
  return join(artifacts, name);
}

/** The storefront at `url`, signed in by clicking the customer's chip, on the category's page, its live cart drawn and its cart document synced. */
export async function openStorefront(page: Page, url: string, customerId: string, category: string): Promise<void> {
  await page.goto(url);
  await page.locator(`[data-testid=sign-in-choice][data-customer-id="${customerId}"]`).click();
  await page.locator(`[data-testid=sign-in-choice][data-customer-id="${customerId}"][aria-pressed=true]`).waitFor();
  await page.locator(`[data-testid=category-link][data-category="${category}"]`).click();
  await page.locator('[data-testid=product-card]').first().waitFor();
  // The cart's total is drawn once the live cart has pushed its first value.
  await page.locator('[data-testid=cart-total]').waitFor();
  await page.locator('[data-testid=live-status][data-state=open]').waitFor();
  // The cart document's bundle has loaded and synced: nothing of the page is still starting.
  await page.locator('[data-testid=sync-status][data-state=synced]').waitFor();
}

/** The cart lines a page shows: sku → quantity. */
export async function cartQuantities(page: Page): Promise<Map<string, number>> {
  const lines = await page.locator('[data-testid=cart-line]').evaluateAll((elements) => elements.map((element) => [element.getAttribute('data-sku')!, Number(element.getAttribute('data-quantity'))] as const));
  return new Map(lines);
}
