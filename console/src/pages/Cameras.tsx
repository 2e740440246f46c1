import { useEffect } from 'preact/hooks';
import { useAction } from '../action';
import { ErrorNote, Loading } from '../components/Status';
import { useApi, useLoad } from '../context';
import { formatTime } from '../format';

/** Each camera's processor: state, last analysed frame, lag; start and stop. */
export function Cameras() {
  const api = useApi();
  const { data, error, loading, reload } = useLoad(() => api.processors(), []);
  const { busy, failure, run } = useAction();
  useEffect(() => {
    const timer = setInterval(reload, 3000);
    return () => clearInterval(timer);
  }, []);

  const change = (camera: string, action: 'start' | 'stop') => run(() => (action === 'start' ? api.startProcessor(camera) : api.stopProcessor(camera)), reload);

  return (
    <section aria-labelledby="cameras-title">
      <h2 id="cameras-title">Cameras</h2>
      {loading && !data && <Loading what="cameras" />}
      {error && <ErrorNote error={error} retry={reload} />}
      {failure && <ErrorNote error={failure} />}
      {data && (
        <table class="list">
          <caption class="sr-only">Face-search processor of each camera</caption>
          <thead>
            <tr>
              <th scope="col">Camera</th>
              <th scope="col">State</th>
              <th scope="col">Last analysed frame</th>
              <th scope="col">Lag</th>
              <th scope="col">Control</th>
            </tr>
          </thead>
          <tbody>
            {data.processors.map((p) => {
              const running = p.state === 'RUNNING' || p.state === 'STARTING';
              return (
                <tr key={p.camera}>
                  <td>{p.camera}</td>
                  <td>
                    <span class={`state ${p.state.toLowerCase()}`}>{p.state}</span>
                    {p.statusMessage && <div class="muted">{p.statusMessage}</div>}
                  </td>
                  <td>{formatTime(p.lastFrameAt)}</td>
                  <td>{p.lagSeconds !== undefined ? `${p.lagSeconds.toFixed(1)} s` : '—'}</td>
                  <td>
                    <button type="button" disabled={busy || p.state === 'STOPPING'} onClick={() => change(p.camera, running ? 'stop' : 'start')}>
                      {running ? `Stop ${p.camera}` : `Start ${p.camera}`}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
