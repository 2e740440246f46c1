import { useRef, useState } from 'preact/hooks';
import { useAction } from '../action';
import { PersonPicker } from '../components/PersonPicker';
import { ErrorNote, Face, Loading } from '../components/Status';
import { useApi, useLoad, usePeople } from '../context';
import { formatTime, visitorName } from '../format';
import { href } from '../router';


/** Recurring unknown visitors: the same unregistered face, recognised again across visits. */
export function Visitors() {
  const api = useApi();
  const { data, error, loading, reload } = useLoad(() => api.visitors(), []);
  return (
    <section aria-labelledby="visitors-title">
      <h2 id="visitors-title">Unknown visitors</h2>
      <p class="muted">Faces that match nobody registered, kept apart so that the same visitor is recognised each time.</p>
      {loading && !data && <Loading what="visitors" />}
      {error && <ErrorNote error={error} retry={reload} />}
      <ul class="visitors">
        {data?.visitors.map((v) => (
          <li key={v.visitorId} class="visitor">
            <a href={href.visitor(v.visitorId)}>
              <Face url={v.snapshotUrl} alt={`Face of ${visitorName(v.visitorId)}`} />
              <span class="who">{visitorName(v.visitorId)}</span>
              <span class="meta">
                {v.visits} {v.visits === 1 ? 'visit' : 'visits'} · first {formatTime(v.firstSeenAt)} · last {formatTime(v.lastSeenAt)}
                {v.lastSeenCamera ? ` on ${v.lastSeenCamera}` : ''}
              </span>
            </a>
          </li>
        ))}
        {data && data.visitors.length === 0 && <li class="muted">No unknown visitors.</li>}
      </ul>
    </section>
  );
}

export function Visitor({ id }: { id: string }) {
  const api = useApi();
  const { people } = usePeople();
  const { data: v, error, loading, reload } = useLoad(() => api.visitor(id), [id]);
  const { busy, failure, run } = useAction();
  const [done, setDone] = useState<{ personId?: string; erased?: boolean }>();
  const dialog = useRef<HTMLDialogElement>(null);

  if (done) {
    return (
      <section aria-labelledby="visitor-title">
        <h2 id="visitor-title">{done.erased ? 'Visitor erased' : 'Visitor named'}</h2>
        <p role="status">
          {done.erased ? 'The visitor’s faces, snapshots and sightings are gone.' : 'Their best snapshot is registered as a photo, and their sightings are that person’s now.'}
        </p>
        {done.personId ? <a href={href.person(done.personId)}>Open the person</a> : <a href={href.visitors()}>← Visitors</a>}
      </section>
    );
  }
  if (loading && !v) return <Loading what="the visitor" />;
  if (error) return <ErrorNote error={error} retry={reload} />;
  if (!v) return null;
  const name = visitorName(v.visitorId);

  const act = (action: () => Promise<{ personId?: string } | unknown>, erased = false) =>
    run(action, (result) => {
      const personId = (result as { personId?: string } | undefined)?.personId;
      setDone({ ...(personId ? { personId } : {}), erased });
    });

  return (
    <section aria-labelledby="visitor-title">
      <p>
        <a href={href.visitors()}>← Visitors</a>
      </p>
      <h2 id="visitor-title">{name}</h2>
      <div class="sighting-detail">
        <Face url={v.snapshotUrl} alt={`Best snapshot of ${name}`} size="large" />
        <dl>
          <dt>Visits</dt>
          <dd>{v.visits}</dd>
          <dt>First seen</dt>
          <dd>{formatTime(v.firstSeenAt)}</dd>
          <dt>Last seen</dt>
          <dd>
            {formatTime(v.lastSeenAt)}
            {v.lastSeenCamera ? ` on ${v.lastSeenCamera}` : ''}
          </dd>
        </dl>
      </div>
      {failure && <ErrorNote error={failure} />}
      <div class="actions">
        <PersonPicker people={people} label="Name this visitor" busy={busy} onPick={(person) => act(() => api.nameVisitor(v.visitorId, person))} />
        <button type="button" class="danger" disabled={busy} onClick={() => dialog.current?.showModal()}>
          Erase this visitor…
        </button>
      </div>
      <dialog ref={dialog} aria-labelledby="erase-visitor-title">
        <h3 id="erase-visitor-title">Erase {name}?</h3>
        <p>This removes the visitor’s faces from the visitor collection, their snapshots and every sighting of them. It cannot be undone.</p>
        <div class="actions">
          <button type="button" onClick={() => dialog.current?.close()}>
            Keep
          </button>
          <button type="button" class="danger" onClick={() => (dialog.current?.close(), act(() => api.eraseVisitor(v.visitorId), true))}>
            Erase
          </button>
        </div>
      </dialog>
    </section>
  );
}
