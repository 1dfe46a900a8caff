import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { artifactPath, cartQuantities, openStorefront, storefrontRig } from './support/storefrontBrowser.js';
import { waitFor } from './support/syncDevice.js';
import { documentEvents, getJson } from './support/syncServer.js';

/*
 * The storefront's offline switch in a real browser, against the real service with auth on:
 * two devices (browser contexts: separate IndexedDB, nothing shared but the server) of one
 * customer. Device A works offline and edits its cart; the edits show as pending, survive a
 * reload (IndexedDB), and reach the server only when A goes online again: then they show as
 * synced, device B's cart shows them, and the ledger holds each edit exactly once.
 */

const secret = 'e2e-offline-secret-of-32-bytes-or-more!';
const customerId = 'c-3';
const category = 'apparel';

const rig = storefrontRig(secret);

interface Device {
  page: Page;
  /** Sync sockets (`/v1/sync`) the page opened and that are still open. */
  openSyncSockets: Set<string>;
  errors: Error[];
}

/** A device signed in as the customer, on the category's page. */
async function openDevice(): Promise<Device> {
  const page = await (await rig().browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage();
  const device: Device = { page, openSyncSockets: new Set(), errors: [] };
  let opened = 0;
  page.on('websocket', (socket) => {
    if (new URL(socket.url()).pathname !== '/v1/sync') return;
    const id = `${++opened}`;
    device.openSyncSockets.add(id);
    socket.on('close', () => device.openSyncSockets.delete(id));
  });
  page.on('pageerror', (error) => device.errors.push(error));
  await openStorefront(page, rig().service.url, customerId, category);
  return device;
}

const syncStatus = (page: Page, state: string): Promise<void> => page.locator(`[data-testid=sync-status][data-state=${state}]`).waitFor();

interface ShownEdit {
  hash: string;
  sku: string;
  amount: number;
  state: string;
}

async function shownEdits(page: Page): Promise<ShownEdit[]> {
  return page.locator('[data-testid=offline-edit]').evaluateAll((elements) =>
    elements.map((element) => ({ hash: element.getAttribute('data-hash')!, sku: element.getAttribute('data-sku')!, amount: Number(element.getAttribute('data-amount')), state: element.getAttribute('data-state')! })),
  );
}

/** The page's edits, once every one of them shows `state`. */
const editsIn = (page: Page, count: number, state: string): Promise<ShownEdit[]> =>
  waitFor(`${count} edits ${state}`, async () => {
    const edits = await shownEdits(page);
    return edits.length === count && edits.every((edit) => edit.state === state) ? edits : undefined;
  });

const token = async (page: Page): Promise<string> => (JSON.parse((await page.evaluate(() => sessionStorage.getItem('foldline.session')))!) as { token: string }).token;

/** The `cart` view's quantities, from the server. */
async function viewQuantities(page: Page): Promise<Map<string, number>> {
  const { json } = await getJson(`${rig().service.url}/v1/views/cart/${customerId}`, await token(page));
  return new Map((json.value.lines as Array<{ sku: string; quantity: number }>).map(({ sku, quantity }) => [sku, quantity]));
}

const plus = (quantities: Map<string, number>, changes: Map<string, number>): Map<string, number> => {
  const sum = new Map(quantities);
  for (const [sku, amount] of changes) sum.set(sku, (sum.get(sku) ?? 0) + amount);
  return new Map([...sum].filter(([, quantity]) => quantity > 0));
};

describe('the storefront offline switch', () => {
  it('keeps offline edits on the device across a reload, syncs them on reconnect, and the ledger takes each once', async () => {
    const a = await openDevice();
    const b = await openDevice();
    expect(a.openSyncSockets.size).toBe(1);

    const before = await cartQuantities(b.page);
    expect(await viewQuantities(b.page)).toEqual(before);
    const eventsBefore = await documentEvents(rig().service.ledger, customerId);
    const skus = await a.page.locator('[data-testid=product-card]').evaluateAll((cards) => cards.map((card) => card.getAttribute('data-sku')!));
    const [newSku, otherSku] = skus.filter((sku) => !before.has(sku));
    const [removedSku] = [...before.keys()];
    expect(newSku && otherSku && removedSku).toBeTruthy();

    // Offline: the sync socket closes; the page writes to its document only.
    await a.page.locator('[data-testid=offline-switch]').check();
    await syncStatus(a.page, 'offline');
    await waitFor('the sync socket to close', () => (a.openSyncSockets.size === 0 ? true : undefined));

    const clicks: Array<[string, string]> = [
      [`[data-testid=add-to-cart][data-sku="${newSku}"]`, newSku!],
      [`[data-testid=add-to-cart][data-sku="${newSku}"]`, newSku!],
      [`[data-testid=add-to-cart][data-sku="${otherSku}"]`, otherSku!],
      [`[data-testid=cart-decrement][data-sku="${removedSku}"]`, removedSku!],
    ];
    for (const [selector] of clicks) await a.page.locator(selector).click();
    const changes = new Map([[newSku!, 2], [otherSku!, 1], [removedSku!, -1]]);

    // Pending, each saved on the device: nothing of them reached the server.
    const pending = await editsIn(a.page, clicks.length, 'pending');
    expect(pending.map(({ sku, amount }) => [sku, amount])).toEqual(clicks.map(([selector, sku]) => [sku, selector.includes('decrement') ? -1 : 1]));
    await a.page.locator(`[data-testid=cart-line-pending][data-sku="${newSku}"][data-state=waiting]`).waitFor();
    expect(await documentEvents(rig().service.ledger, customerId)).toEqual(eventsBefore);
    expect(await viewQuantities(b.page)).toEqual(before);
    await a.page.locator('.sidebar').screenshot({ path: await artifactPath('offline-pending.png') });

    // A reload while offline: the edits come back from IndexedDB, still pending, still offline.
    await a.page.reload();
    await syncStatus(a.page, 'offline');
    expect(await a.page.locator('[data-testid=offline-switch]').isChecked()).toBe(true);
    expect(await editsIn(a.page, clicks.length, 'pending')).toEqual(pending);
    expect(a.openSyncSockets.size).toBe(0);
    expect(await documentEvents(rig().service.ledger, customerId)).toEqual(eventsBefore);

    // Online again: the edits sync, device B shows them, the ledger holds each edit once.
    await a.page.locator('[data-testid=offline-switch]').uncheck();
    const synced = await editsIn(a.page, clicks.length, 'synced');
    expect(synced.map(({ hash }) => hash)).toEqual(pending.map(({ hash }) => hash));
    await syncStatus(a.page, 'synced');
    const expected = plus(before, changes);
    for (const [sku, quantity] of expected) await b.page.locator(`[data-testid=cart-line][data-sku="${sku}"][data-quantity="${quantity}"]`).waitFor();
    expect(await cartQuantities(b.page)).toEqual(expected);
    await a.page.locator(`[data-testid=cart-line][data-sku="${newSku}"][data-quantity="2"]`).waitFor();
    expect(await cartQuantities(a.page)).toEqual(expected);
    await a.page.locator('.sidebar').screenshot({ path: await artifactPath('offline-synced-a.png') });

    const appended = (await documentEvents(rig().service.ledger, customerId)).slice(eventsBefore.length);
    expect(appended.map(({ id }) => id).sort()).toEqual(pending.map(({ hash }) => `${hash}-0`).sort());
    expect(await viewQuantities(b.page)).toEqual(expected);

    // Syncing again (a reconnect, and a reload that loads the stored copy) appends nothing more.
    await a.page.locator('[data-testid=offline-switch]').check();
    await syncStatus(a.page, 'offline');
    await a.page.locator('[data-testid=offline-switch]').uncheck();
    await syncStatus(a.page, 'synced');
    await a.page.reload();
    await syncStatus(a.page, 'synced');
    await b.page.reload();
    await syncStatus(b.page, 'synced');
    expect(await documentEvents(rig().service.ledger, customerId)).toHaveLength(eventsBefore.length + clicks.length);
    expect(await viewQuantities(b.page)).toEqual(expected);

    await b.page.locator('.sidebar').screenshot({ path: await artifactPath('offline-synced-b.png') });
    expect([...a.errors, ...b.errors]).toEqual([]);
  });
});
