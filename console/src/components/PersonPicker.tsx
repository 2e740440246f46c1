import { useState } from 'preact/hooks';
import type { PersonView } from '../types';

/** "This is …": an existing person, or a new one by name. */
export function PersonPicker({
  people,
  label,
  busy,
  onPick,
}: {
  people: PersonView[];
  label: string;
  busy?: boolean;
  onPick: (person: { personId: string } | { name: string }) => void;
}) {
  const [choice, setChoice] = useState('');
  const [name, setName] = useState('');
  const id = label.replace(/\W+/g, '-').toLowerCase();
  const isNew = choice === '' || choice === '__new';
  return (
    <form
      class="picker"
      onSubmit={(e) => {
        e.preventDefault();
        if (!isNew) onPick({ personId: choice });
        else if (name.trim()) onPick({ name: name.trim() });
      }}
    >
      <label for={`${id}-person`}>{label}</label>
      <select id={`${id}-person`} value={choice} onChange={(e) => setChoice((e.target as HTMLSelectElement).value)}>
        <option value="__new">A new person…</option>
        {people.map((p) => (
          <option key={p.personId} value={p.personId}>
            {p.displayName}
          </option>
        ))}
      </select>
      {isNew && (
        <label>
          Name of the new person
          <input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} maxLength={100} autocomplete="off" />
        </label>
      )}
      <button type="submit" disabled={busy || (isNew && !name.trim())}>
        {busy ? 'Saving…' : 'Save'}
      </button>
    </form>
  );
}
