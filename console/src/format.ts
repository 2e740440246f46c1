/** Times as the operator reads them: local time, with the date when it is not today. */
export function formatTime(iso: string | undefined, now = new Date()): string {
  if (!iso) return '—';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const time = at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return at.toDateString() === now.toDateString() ? time : `${at.toLocaleDateString()} ${time}`;
}

export const formatSimilarity = (s: number | undefined) => (s === undefined ? '' : `${s.toFixed(1)} %`);

/** "Unknown visitor 3f2a" from a visitor id; "Unknown face" without one. */
export function visitorName(visitorId: string | undefined): string {
  if (!visitorId) return 'Unknown face';
  return `Unknown visitor ${visitorId.replace(/^v-/, '').slice(0, 6)}`;
}

/** <input type="datetime-local"> value (local time) → ISO; '' → undefined. */
export function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}
