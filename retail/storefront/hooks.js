import { useEffect, useState } from 'preact/hooks';

/** The newest pushed `{token, value}` (or `{error}`) of a live view; null until the first push. */
export function useLiveView(live, view, key) {
  const [state, setState] = useState(null);
  useEffect(() => {
    setState(null);
    if (!live || !key) return undefined;
    return live.subscribe(view, key, setState);
  }, [live, view, key]);
  return state;
}

/** `{data}` or `{error}` once `load()` settles, null before; loads again when `deps` change. */
export function useLoaded(load, deps) {
  const [state, setState] = useState(null);
  useEffect(() => {
    let current = true;
    setState(null);
    load().then(
      (data) => current && setState({ data }),
      (error) => current && setState({ error }),
    );
    return () => {
      current = false;
    };
  }, deps);
  return state;
}

/*
 * Hash routes (the gateway serves fixed asset paths only): `#/category/{name}`,
 * `#/product/{sku}`, `#/staff[/{view}/{key}]`, anything else is the home page.
 */
function parseRoute() {
  const [, page, param, ...rest] = location.hash.split('/');
  if ((page === 'category' || page === 'product') && param) return { page, param: decodeURIComponent(param) };
  if (page === 'staff') return { page, view: param ? decodeURIComponent(param) : undefined, key: rest.length > 0 ? decodeURIComponent(rest.join('/')) : undefined };
  return { page: 'home' };
}

export const categoryHref = (category) => `#/category/${encodeURIComponent(category)}`;
export const productHref = (sku) => `#/product/${encodeURIComponent(sku)}`;

export function useRoute() {
  const [route, setRoute] = useState(parseRoute);
  useEffect(() => {
    const onChange = () => {
      setRoute(parseRoute());
      scrollTo({ top: 0 });
    };
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
