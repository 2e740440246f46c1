import { useRef, useState } from 'preact/hooks';
import { ErrorNote, Face, Loading } from '../components/Status';
import { Upload } from '../components/Upload';
import { useApi, useLoad } from '../context';
import { formatTime } from '../format';
import { href } from '../router';

/** One person: registered and refused photos, alert rules, more photos, erasure. */
export function Person({ id }: { id: string }) {
  const api = useApi();
  const { data: p, error, loading, reload } = useLoad(() => api.person(id), [id]);
  const [failure, setFailure] = useState<Error>();
  const [erased, setErased] = useState<Record<string, number>>();
  const dialog = useRef<HTMLDialogElement>(null);

  if (erased) {
    return (
      <section aria-labelledby="person-title">
        <h2 id="person-title">Erased</h2>
        <p role="status">
          Removed {erased.faces} faces, {erased.photos} photos, {erased.sightings} sightings, {erased.alertStates} alert states and {erased.records} records.
        </p>
        <a href={href.people()}>← People</a>
      </section>
    );
  }
  if (loading && !p) return <Loading what="the person" />;
  if (error) return <ErrorNote error={error} retry={reload} />;
  if (!p) return null;

  async function setRule(rule: 'muted' | 'watchlist', value: boolean) {
    setFailure(undefined);
    try {
      await api.updatePerson(id, { [rule]: value });
      reload();
    } catch (e) {
      setFailure(e as Error);
    }
  }

  async function erase() {
    dialog.current?.close();
    try {
      setErased((await api.erasePerson(id)).removed);
    } catch (e) {
      setFailure(e as Error);
    }
  }

  const photoKeys = [...new Set(p.faces.map((f) => f.photoKey))];
  return (
    <section aria-labelledby="person-title">
      <p>
        <a href={href.people()}>← People</a>
      </p>
      <h2 id="person-title">{p.displayName}</h2>
      <p class="muted">
        {p.lastSeenAt ? `Last seen ${formatTime(p.lastSeenAt)} on ${p.lastSeenCamera ?? '?'}` : 'Not seen yet'}
      </p>
      {failure && <ErrorNote error={failure} />}
      <fieldset class="rules">
        <legend>Alerts</legend>
        <label>
          <input type="checkbox" checked={p.rules.muted} onChange={(e) => setRule('muted', (e.target as HTMLInputElement).checked)} /> Muted (no alerts; sightings are
          still kept)
        </label>
        <label>
          <input type="checkbox" checked={p.rules.watchlist} onChange={(e) => setRule('watchlist', (e.target as HTMLInputElement).checked)} /> On the watchlist
        </label>
      </fieldset>
      <h3>Registered photos ({photoKeys.length})</h3>
      <ul class="photos">
        {photoKeys.map((key) => (
          <li key={key}>
            <Face url={p.photoUrls?.[key]} alt={`Photo ${key.split('/').pop()}`} />
            <span class="muted">{key.split('/').pop()}</span>
          </li>
        ))}
      </ul>
      {p.rejectedPhotos.length > 0 && (
        <>
          <h3>Refused photos</h3>
          <ul class="refused">
            {p.rejectedPhotos.map((r) => (
              <li key={r.photoKey}>
                <Face url={p.photoUrls?.[r.photoKey]} alt={`Refused photo ${r.photoKey.split('/').pop()}`} />
                <span>
                  <strong>{r.photoKey.split('/').pop()}</strong>: {r.message} <span class="muted">({r.reason})</span>
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
      <Upload personId={id} onDone={reload} />
      <div class="card danger-zone">
        <h3>Erase</h3>
        <button type="button" class="danger" onClick={() => dialog.current?.showModal()}>
          Erase {p.displayName}…
        </button>
      </div>
      <dialog ref={dialog} aria-labelledby="erase-title">
        <h3 id="erase-title">Erase {p.displayName}?</h3>
        <p>
          This removes, for good: {p.faces.length} registered faces from the face collection, {photoKeys.length + p.rejectedPhotos.length} photos, every sighting of{' '}
          {p.displayName} and their alert state. It cannot be undone.
        </p>
        <div class="actions">
          <button type="button" onClick={() => dialog.current?.close()}>
            Keep
          </button>
          <button type="button" class="danger" onClick={erase}>
            Erase everything
          </button>
        </div>
      </dialog>
    </section>
  );
}
