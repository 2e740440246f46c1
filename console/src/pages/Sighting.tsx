import { useState } from 'preact/hooks';
import { useAction } from '../action';
import { PersonPicker } from '../components/PersonPicker';
import { ErrorNote, Face, Loading } from '../components/Status';
import { useApi, useLoad, usePeople } from '../context';
import { formatSimilarity, formatTime, visitorName } from '../format';
import { href } from '../router';

/** One sighting: its face, who it matched, and the operator's corrections ("this is …", "not this person"). */
export function Sighting({ id }: { id: string }) {
  const api = useApi();
  const { people, nameOf, reload: reloadPeople } = usePeople();
  const { data: s, error, loading, reload } = useLoad(() => api.sighting(id), [id]);
  const { busy, failure, run } = useAction();
  const [note, setNote] = useState<string>();

  if (loading && !s) return <Loading what="the sighting" />;
  if (error) return <ErrorNote error={error} retry={reload} />;
  if (!s) return null;
  const visitorId = s.visitorId;
  const who = s.personId === 'UNKNOWN' ? visitorName(visitorId) : nameOf(s.personId);

  const act = (action: () => Promise<unknown>, done: string) =>
    run(action, () => {
      setNote(done);
      reload();
      reloadPeople();
    });

  return (
    <section aria-labelledby="sighting-title">
      <p>
        <a href={href.live()}>← Live</a>
      </p>
      <h2 id="sighting-title">{who}</h2>
      <div class="sighting-detail">
        <Face url={s.snapshotUrl} alt={`Face of ${who}`} size="large" />
        <dl>
          <dt>Person</dt>
          <dd>{s.personId === 'UNKNOWN' ? (visitorId ? <a href={href.visitor(visitorId)}>{who}</a> : who) : <a href={href.person(s.personId)}>{who}</a>}</dd>
          {s.similarity !== undefined && (
            <>
              <dt>Similarity</dt>
              <dd>{formatSimilarity(s.similarity)}</dd>
            </>
          )}
          <dt>Camera</dt>
          <dd>{s.camera}</dd>
          <dt>Frame time</dt>
          <dd>
            <time dateTime={s.seenAt}>{formatTime(s.seenAt)}</time>
          </dd>
          {s.correctedFrom && (
            <>
              <dt>Corrected</dt>
              <dd>was matched to {nameOf(s.correctedFrom)}</dd>
            </>
          )}
          {s.identified && (
            <>
              <dt>Named by</dt>
              <dd>an operator</dd>
            </>
          )}
        </dl>
      </div>
      {note && (
        <p class="ok" role="status">
          {note}
        </p>
      )}
      {failure && <ErrorNote error={failure} />}
      <div class="actions">
        {s.snapshotUrl ? (
          <PersonPicker
            people={people}
            label="This is"
            busy={busy}
            onPick={(person) => act(() => api.identify(s.sightingId, person), 'Saved: the face is registered as a photo of that person.')}
          />
        ) : (
          <p class="muted">This frame kept no face picture, so it cannot be used as a photo (about one frame a second keeps one).</p>
        )}
        {s.personId !== 'UNKNOWN' && (
          <button
            type="button"
            class="danger"
            disabled={busy}
            onClick={() => act(() => api.notThisPerson(s.sightingId, s.personId), `Recorded: this is not ${who}. The sighting is now an unknown face.`)}
          >
            Not {who}
          </button>
        )}
      </div>
    </section>
  );
}
