import { useEffect, useState } from 'preact/hooks';
import { createApi } from './api.js';
import { html } from './ui.js';

/*
 * The staff page (`#/staff/{view}/{key}`): why a view value is what it is. It asks the
 * server's explain endpoint (operators only: with auth on, paste a staff or service token)
 * and shows the value, each entity it read with how far the fold is behind on its shards,
 * and the events that last changed each.
 */

const views = ['cart', 'product', 'catalog', 'recently-viewed', 'sales-by-shade', 'leaderboard'];
const tokenKey = 'foldline.staffToken';

export const staffHref = (view, key) => `#/staff/${encodeURIComponent(view)}/${encodeURIComponent(key)}`;

function Entity({ entity }) {
  const behind = entity.lag > 0;
  return html`
    <section class="panel explain-entity" data-testid="explain-entity" data-entity=${entity.entity} data-key=${entity.key} data-lag=${entity.lag}>
      <header class="panel-head">
        <h2>${entity.entity} <code>${entity.key}</code></h2>
        <span class=${behind ? 'lag behind' : 'lag'} data-testid="explain-lag">${behind ? `${entity.lag} behind` : 'caught up'}</span>
      </header>
      <table class="leaderboard">
        <thead><tr><th>Shard</th><th class="num">Folded into it</th><th class="num">Fold read</th><th class="num">Ledger head</th></tr></thead>
        <tbody>
          ${Object.keys(entity.head).map(
            (position) => html`<tr key=${position}><td>${position}</td><td class="num">${entity.frontier[position] ?? '—'}</td><td class="num">${entity.folded[position] ?? '—'}</td><td class="num">${entity.head[position]}</td></tr>`,
          )}
        </tbody>
      </table>
      <h3>Latest events</h3>
      ${entity.recent.length === 0
        ? html`<p class="muted empty">None found.</p>`
        : html`<ol class="explain-events">
            ${entity.recent.map(
              (event) => html`
                <li key=${`${event.stream}/${event.shard}/${event.seq}`} data-testid="explain-event" data-event-id=${event.id}>
                  <code>${event.type}</code> <span class="muted">${event.id} from ${event.source}, ${event.stream}/${event.shard} seq ${event.seq}, ${event.time}</span>
                  ${event.traceparent && html`<span class="muted"> trace ${event.traceparent}</span>`}
                </li>
              `,
            )}
          </ol>`}
    </section>
  `;
}

export function StaffPage({ view: initialView, entityKey }) {
  const [view, setView] = useState(initialView ?? 'cart');
  const [key, setKey] = useState(entityKey ?? '');
  const [token, setToken] = useState(() => sessionStorage.getItem(tokenKey) ?? '');
  const [state, setState] = useState(null);
  const run = async () => {
    sessionStorage.setItem(tokenKey, token);
    // A link to this explanation, without a hashchange (which would route afresh).
    history.replaceState(null, '', staffHref(view, key));
    setState({ loading: true });
    try {
      setState({ data: await createApi(token.trim() || null).explain(view, key) });
    } catch (error) {
      setState({ error });
    }
  };
  // Opened by a link naming a view key: explain it at once.
  useEffect(() => {
    if (entityKey) void run();
  }, []);
  const explain = (event) => {
    event.preventDefault();
    void run();
  };
  const data = state?.data;
  return html`
    <main class="staff" data-testid="staff-page">
      <h1>Why is this value what it is?</h1>
      <form class="panel staff-form" onSubmit=${explain}>
        <select aria-label="View" data-testid="explain-view" value=${view} onChange=${(event) => setView(event.currentTarget.value)}>
          ${views.map((name) => html`<option value=${name}>${name}</option>`)}
        </select>
        <input aria-label="Key" data-testid="explain-key" placeholder="key, such as c-1" value=${key} onInput=${(event) => setKey(event.currentTarget.value)} />
        <input aria-label="Staff token" data-testid="explain-token" placeholder="staff token (when auth is on)" value=${token} onInput=${(event) => setToken(event.currentTarget.value)} />
        <button type="submit" data-testid="explain-submit" disabled=${!key}>Explain</button>
      </form>
      ${state?.loading && html`<p class="notice muted">Asking…</p>`}
      ${state?.error && html`<p class="notice error" data-testid="explain-error">${state.error.message}</p>`}
      ${data &&
      html`
        <section class="panel" data-testid="explain-value">
          <h2>${data.view}/${data.key}</h2>
          <p class="muted">Reflects <code>${data.token}</code>; the fold has read <code>${data.checkpoint}</code>.</p>
          <pre>${JSON.stringify(data.value, null, 2)}</pre>
        </section>
        ${data.entities.map((entity) => html`<${Entity} key=${`${entity.entity}/${entity.key}`} entity=${entity} />`)}
      `}
    </main>
  `;
}
