import { useEffect, useState } from 'preact/hooks';

/** Hash routes: #/, #/sightings/<id>, #/people, #/people/<id>, #/visitors, #/visitors/<id>, #/cameras. */
export type Route =
  | { page: 'live' }
  | { page: 'sighting'; id: string }
  | { page: 'people' }
  | { page: 'person'; id: string }
  | { page: 'visitors' }
  | { page: 'visitor'; id: string }
  | { page: 'cameras' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [first, id] = parts;
  if (first === 'sightings' && id) return { page: 'sighting', id };
  if (first === 'people') return id ? { page: 'person', id } : { page: 'people' };
  if (first === 'visitors') return id ? { page: 'visitor', id } : { page: 'visitors' };
  if (first === 'cameras') return { page: 'cameras' };
  return { page: 'live' };
}

export const href = {
  live: () => '#/',
  sighting: (id: string) => `#/sightings/${encodeURIComponent(id)}`,
  people: () => '#/people',
  person: (id: string) => `#/people/${encodeURIComponent(id)}`,
  visitors: () => '#/visitors',
  visitor: (id: string) => `#/visitors/${encodeURIComponent(id)}`,
  cameras: () => '#/cameras',
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
