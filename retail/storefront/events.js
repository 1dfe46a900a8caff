/** CloudEvents the page writes: customer-stream events whose subject is the signed-in customer. */

// crypto.randomUUID exists only in secure contexts; a page served over plain http on a LAN
// address still needs fresh ids.
function freshId() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function customerEvent(type, customerId, data) {
  return {
    specversion: '1.0',
    id: freshId(),
    source: '/storefront',
    type,
    time: new Date().toISOString(),
    subject: customerId,
    data: { customerId, ...data },
  };
}
