import type { ApiErrorBody, Naming, PeoplePage, PersonDetail, PersonView, ProcessorStatus, SightingView, UploadPlan, VisitorView } from './types';

/** An answer of the API that is not 2xx, with its documented error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface SightingFilters {
  camera?: string;
  personId?: string;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
}

/** The console's client of the HTTP API: relative /api/... URLs (same origin locally and behind CloudFront). */
export class Api {
  constructor(
    private readonly token: () => string | undefined,
    private readonly onUnauthorized: () => void = () => {},
    private readonly base = '/api',
    private readonly fetcher: typeof fetch = (...args) => fetch(...args),
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const token = this.token();
    const response = await this.fetcher(`${this.base}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (!response.ok) {
      if (response.status === 401) this.onUnauthorized();
      const error = (parsed as ApiErrorBody | undefined)?.error;
      throw new ApiError(response.status, error?.code ?? 'HttpError', error?.message ?? `The API answered ${response.status}`, error?.field);
    }
    return parsed as T;
  }

  sightings(filters: SightingFilters = {}) {
    return this.call<{ sightings: SightingView[]; nextCursor?: string }>('GET', `/sightings${query({ ...filters })}`);
  }
  sighting(sightingId: string) {
    return this.call<SightingView>('GET', `/sightings/${encodeURIComponent(sightingId)}`);
  }
  identify(sightingId: string, person: { personId: string } | { name: string }) {
    return this.call<{ sighting: SightingView; personId: string; photoKey: string }>('POST', `/sightings/${encodeURIComponent(sightingId)}/identify`, person);
  }
  notThisPerson(sightingId: string, personId: string) {
    return this.call<SightingView>('POST', `/sightings/${encodeURIComponent(sightingId)}/not-this-person`, { personId });
  }
  people(cursor?: string) {
    return this.call<PeoplePage>('GET', `/people${query({ limit: 100, cursor })}`);
  }
  person(personId: string) {
    return this.call<PersonDetail>('GET', `/people/${encodeURIComponent(personId)}`);
  }
  updatePerson(personId: string, rules: { muted?: boolean; watchlist?: boolean }) {
    return this.call<PersonView>('PATCH', `/people/${encodeURIComponent(personId)}`, rules);
  }
  erasePerson(personId: string) {
    return this.call<{ personId: string; removed: Record<string, number> }>('DELETE', `/people/${encodeURIComponent(personId)}`);
  }
  uploads(person: { personId: string } | { name: string }, files: { fileName: string; contentType: string; bytes: number }[]) {
    return this.call<UploadPlan>('POST', '/uploads', { person, files });
  }
  processors() {
    return this.call<{ processors: ProcessorStatus[] }>('GET', '/processor');
  }
  startProcessor(camera: string) {
    return this.call<{ processors: ProcessorStatus[] }>('POST', `/processor/start${query({ camera })}`);
  }
  stopProcessor(camera: string) {
    return this.call<{ processors: ProcessorStatus[] }>('POST', `/processor/stop${query({ camera })}`);
  }
  visitors(cursor?: string) {
    return this.call<{ visitors: VisitorView[]; nextCursor?: string }>('GET', `/visitors${query({ limit: 50, cursor })}`);
  }
  visitor(visitorId: string) {
    return this.call<VisitorView>('GET', `/visitors/${encodeURIComponent(visitorId)}`);
  }
  nameVisitor(visitorId: string, person: { personId: string } | { name: string }) {
    return this.call<Naming>('POST', `/visitors/${encodeURIComponent(visitorId)}/name`, person);
  }
  eraseVisitor(visitorId: string) {
    return this.call<{ visitorId: string; removed: Record<string, number> }>('DELETE', `/visitors/${encodeURIComponent(visitorId)}`);
  }
}

function query(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params).filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== '');
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}` : '';
}

/** PUTs one file to its presigned URL, reporting progress (0–1). XHR: fetch cannot report upload progress. */
export function putFile(url: string, file: Blob, contentType: string, onProgress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.setRequestHeader('content-type', contentType);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? (onProgress(1), resolve()) : reject(new Error(`The upload was refused (${xhr.status})`)));
    xhr.onerror = () => reject(new Error('The upload failed: the storage did not answer'));
    xhr.send(file);
  });
}
