import { ErrorNote, Loading } from '../components/Status';
import { Upload } from '../components/Upload';
import { useApi, useLoad } from '../context';
import { formatTime } from '../format';
import { href } from '../router';

/** Registered people, their photos' state and when last seen; add a person by upload. */
export function People() {
  const api = useApi();
  const { data, error, loading, reload } = useLoad(() => api.people(), []);
  return (
    <section aria-labelledby="people-title">
      <h2 id="people-title">People</h2>
      <Upload onDone={(personId) => (reload(), (window.location.hash = href.person(personId)))} />
      {loading && !data && <Loading what="people" />}
      {error && <ErrorNote error={error} retry={reload} />}
      {data && (
        <table class="list">
          <caption class="sr-only">Registered people</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Faces</th>
              <th scope="col">Refused</th>
              <th scope="col">Last seen</th>
              <th scope="col">Alerts</th>
            </tr>
          </thead>
          <tbody>
            {data.people.map((p) => (
              <tr key={p.personId}>
                <td>
                  <a href={href.person(p.personId)}>{p.displayName}</a>
                </td>
                <td>{p.faces.length}</td>
                <td>{p.rejectedPhotos.length}</td>
                <td>{p.lastSeenAt ? `${formatTime(p.lastSeenAt)} · ${p.lastSeenCamera ?? ''}` : '—'}</td>
                <td>{p.rules.muted ? 'muted' : p.rules.watchlist ? 'watchlist' : 'on'}</td>
              </tr>
            ))}
            {data.people.length === 0 && (
              <tr>
                <td colSpan={5} class="muted">
                  Nobody is registered yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      {data && data.unfiledPhotos.length > 0 && (
        <>
          <h3>Photos outside a person’s folder</h3>
          <ul>
            {data.unfiledPhotos.map((p) => (
              <li key={p.photoKey}>
                <code>{p.photoKey}</code>: {p.message}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
