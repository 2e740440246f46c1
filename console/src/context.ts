import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { Api } from './api';
import type { PersonView } from './types';

export interface ConsoleContext {
  api: Api;
}

export const Ctx = createContext<ConsoleContext | null>(null);

export function useApi(): Api {
  const ctx = useContext(Ctx);
  if (!ctx) throw new Error('useApi outside the console');
  return ctx.api;
}

/** Loads once per mount; `reload` runs it again. Errors are shown, not thrown. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data?: T; error?: Error; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: Error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/** personId → display name, for labelling sightings. */
export function usePeople(): { people: PersonView[]; nameOf: (personId: string) => string; reload: () => void } {
  const api = useApi();
  const { data, reload } = useLoad(() => api.people(), []);
  const people = data?.people ?? [];
  const names = new Map(people.map((p) => [p.personId, p.displayName]));
  return { people, nameOf: (id) => names.get(id) ?? id, reload };
}
