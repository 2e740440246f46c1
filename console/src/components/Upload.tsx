import { useState } from 'preact/hooks';
import { putFile } from '../api';
import { useApi } from '../context';

type FileState = { name: string; progress: number; status: 'waiting' | 'uploading' | 'indexing' | 'registered' | 'refused' | 'failed'; message?: string };

const TYPES: Record<string, string> = { 'image/jpeg': 'image/jpeg', 'image/png': 'image/png', 'image/jpg': 'image/jpeg' };

/**
 * Photos from the browser into faces/<person>/ through presigned PUTs (POST /uploads): indexing stays the S3-triggered
 * path. Each file shows its upload progress, then whether the indexer registered or refused it (and why).
 */
export function Upload({ personId, onDone }: { personId?: string; onDone?: (personId: string) => void }) {
  const api = useApi();
  const [name, setName] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [states, setStates] = useState<FileState[]>([]);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const idPrefix = personId ? `upload-${personId}` : 'upload-new';

  const update = (i: number, change: Partial<FileState>) => setStates((all) => all.map((s, j) => (j === i ? { ...s, ...change } : s)));

  async function submit(e: Event) {
    e.preventDefault();
    setError(undefined);
    if (!personId && !name.trim()) return setError('Give the person’s name.');
    if (files.length === 0) return setError('Choose at least one photo (JPEG or PNG).');
    const unsupported = files.find((f) => !TYPES[f.type]);
    if (unsupported) return setError(`“${unsupported.name}” is not a JPEG or PNG photo.`);
    setBusy(true);
    setStates(files.map((f) => ({ name: f.name, progress: 0, status: 'waiting' })));
    try {
      const plan = await api.uploads(personId ? { personId } : { name: name.trim() }, files.map((f) => ({ fileName: f.name, contentType: TYPES[f.type], bytes: f.size })));
      await Promise.all(
        plan.uploads.map(async (upload, i) => {
          update(i, { status: 'uploading' });
          try {
            await putFile(upload.url, files[i], upload.headers['content-type'], (progress) => update(i, { progress }));
            update(i, { status: 'indexing', progress: 1 });
          } catch (err) {
            update(i, { status: 'failed', message: (err as Error).message });
          }
        }),
      );
      await followIndexing(plan.personId, plan.uploads.map((u) => u.photoKey));
      onDone?.(plan.personId);
      setFiles([]);
      setName('');
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  /** Polls the person until each uploaded key is registered or refused (the indexer answers within seconds). */
  async function followIndexing(id: string, keys: string[]) {
    const deadline = Date.now() + 60_000;
    const pending = new Set(keys);
    while (pending.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      // A new person exists only once the indexer wrote them: read the list (no 404s) until then.
      const person = personId ? await api.person(id).catch(() => undefined) : (await api.people().catch(() => undefined))?.people.find((p) => p.personId === id);
      if (!person) continue;
      for (const key of [...pending]) {
        const i = keys.indexOf(key);
        const refused = person.rejectedPhotos.find((p) => p.photoKey === key);
        if (refused) {
          update(i, { status: 'refused', message: refused.message });
          pending.delete(key);
        } else if (person.faces.some((f) => f.photoKey === key)) {
          update(i, { status: 'registered' });
          pending.delete(key);
        }
      }
    }
  }

  return (
    <form class="card upload" onSubmit={submit} aria-label={personId ? 'Add photos' : 'Add a person'}>
      <h3>{personId ? 'Add photos' : 'Add a person'}</h3>
      {!personId && (
        <label>
          Name
          <input id={`${idPrefix}-name`} name="name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} maxLength={100} autocomplete="off" />
        </label>
      )}
      <label>
        Photos (JPEG or PNG, one face each)
        <input id={`${idPrefix}-files`} type="file" accept="image/jpeg,image/png" multiple onChange={(e) => setFiles([...((e.target as HTMLInputElement).files ?? [])])} />
      </label>
      <button type="submit" disabled={busy}>
        {busy ? 'Uploading…' : 'Upload'}
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {states.length > 0 && (
        <ul class="files" aria-live="polite">
          {states.map((s) => (
            <li key={s.name} data-status={s.status}>
              <span class="file-name">{s.name}</span>
              <progress max={1} value={s.progress} aria-label={`Upload of ${s.name}`} />
              <span class="file-status">{describe(s)}</span>
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}

function describe(s: FileState): string {
  switch (s.status) {
    case 'waiting':
      return 'waiting';
    case 'uploading':
      return `${Math.round(s.progress * 100)} %`;
    case 'indexing':
      return 'uploaded, registering…';
    case 'registered':
      return 'registered';
    case 'refused':
      return `refused: ${s.message ?? ''}`;
    case 'failed':
      return `failed: ${s.message ?? ''}`;
  }
}
