/** Loading and error states, announced to screen readers. */
export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function ErrorNote({ error, retry }: { error: Error; retry?: () => void }) {
  return (
    <div class="error" role="alert">
      <span>{error.message}</span>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Face({ url, alt, size = 'small' }: { url?: string; alt: string; size?: 'small' | 'large' }) {
  return url ? <img class={`face ${size}`} src={url} alt={alt} loading="lazy" /> : <div class={`face ${size} none`} role="img" aria-label={`${alt} (no picture kept)`} />;
}
