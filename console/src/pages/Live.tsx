import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ErrorNote, Face } from '../components/Status';
import { useApi, useLoad, usePeople } from '../context';
import { formatSimilarity, formatTime, fromLocalInput, visitorName } from '../format';
import { groupVisits, mergeSightings, pollSince } from '../live';
import { href } from '../router';
import type { SightingView } from '../types';

const POLL_MS = 1500;

/** Newest sightings first, grouped into visits, with their face; new ones appear by themselves (polling). */
export function Live() {
  const api = useApi();
  const { people, nameOf } = usePeople();
  const cameras = useLoad(() => api.processors(), []);
  const [camera, setCamera] = useState('');
  const [personId, setPersonId] = useState('');
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [sightings, setSightings] = useState<SightingView[]>([]);
  const [cursor, setCursor] = useState<string>();
  const [error, setError] = useState<Error>();
  const newest = useRef<string | undefined>(undefined);

  const filters = useMemo(
    () => ({ ...(camera ? { camera } : {}), ...(personId ? { personId } : {}), since: fromLocalInput(since), until: fromLocalInput(until) }),
    [camera, personId, since, until],
  );

  // A new filter: the first page, then (without an end time) poll for what is newer.
  useEffect(() => {
    let live = true;
    setSightings([]);
    setCursor(undefined);
    newest.current = undefined;
    const first = api.sightings({ ...filters, limit: 200 }).then((page) => {
      if (!live) return;
      setSightings(page.sightings);
      setCursor(page.nextCursor);
      newest.current = page.sightings[0]?.seenAt;
      setError(undefined);
    });
    first.catch((e: Error) => live && setError(e));
    if (filters.until) return () => void (live = false);
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      try {
        await first.catch(() => undefined);
        const since = filters.since && (!newest.current || filters.since > newest.current) ? filters.since : pollSince(newest.current, Date.now());
        const page = await api.sightings({ ...filters, since, limit: 500 });
        if (!live) return;
        if (page.sightings.length) {
          setSightings((current) => mergeSightings(current, page.sightings));
          if (!newest.current || page.sightings[0].seenAt > newest.current) newest.current = page.sightings[0].seenAt;
        }
        setError(undefined);
      } catch (e) {
        if (live) setError(e as Error);
      }
      if (live) timer = setTimeout(poll, POLL_MS);
    };
    timer = setTimeout(poll, POLL_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, filters]);

  async function older() {
    if (!cursor) return;
    try {
      const page = await api.sightings({ ...filters, limit: 200, cursor });
      setSightings((current) => mergeSightings(current, page.sightings, 10_000));
      setCursor(page.nextCursor);
    } catch (e) {
      setError(e as Error);
    }
  }

  const visits = groupVisits(sightings);
  const cameraNames = cameras.data?.processors.map((p) => p.camera) ?? [];

  return (
    <section aria-labelledby="live-title">
      <h2 id="live-title">Live</h2>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>
          Camera
          <select value={camera} onChange={(e) => setCamera((e.target as HTMLSelectElement).value)}>
            <option value="">All cameras</option>
            {cameraNames.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label>
          Person
          <select value={personId} onChange={(e) => setPersonId((e.target as HTMLSelectElement).value)}>
            <option value="">Everyone</option>
            <option value="UNKNOWN">Unknown faces</option>
            {people.map((p) => (
              <option key={p.personId} value={p.personId}>
                {p.displayName}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="datetime-local" step={1} value={since} onChange={(e) => setSince((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          To
          <input type="datetime-local" step={1} value={until} onChange={(e) => setUntil((e.target as HTMLInputElement).value)} />
        </label>
      </form>
      {error && <ErrorNote error={error} />}
      <p class="muted" aria-live="polite">
        {visits.length === 0 ? 'No sightings yet.' : `${sightings.length} sightings in ${visits.length} visits${filters.until ? '' : ' · updating'}`}
      </p>
      <ol class="sightings">
        {visits.map((v) => {
          const s = v.shown;
          const who = s.personId === 'UNKNOWN' ? visitorName(v.visitorId) : nameOf(s.personId);
          return (
            <li key={v.key} class="sighting" data-person={s.personId}>
              <a href={href.sighting(s.sightingId)} aria-label={`${who} on ${s.camera} at ${formatTime(v.lastSeenAt)}`}>
                <Face url={s.snapshotUrl} alt={`Face of ${who}`} />
                <span class="who">{who}</span>
                <span class="meta">
                  {s.camera} · {formatTime(v.lastSeenAt)}
                  {v.count > 1 ? ` · ${v.count} frames since ${formatTime(v.firstSeenAt)}` : ''}
                </span>
                {v.bestSimilarity !== undefined && <span class="similarity">{formatSimilarity(v.bestSimilarity)}</span>}
              </a>
            </li>
          );
        })}
      </ol>
      {cursor && (
        <button type="button" onClick={older}>
          Older sightings
        </button>
      )}
    </section>
  );
}
