import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Api } from '../src/api';
import { Ctx } from '../src/context';
import { Cameras } from '../src/pages/Cameras';
import { Sighting } from '../src/pages/Sighting';
import type { PersonView, ProcessorStatus, SightingView } from '../src/types';


afterEach(cleanup);

const ada: PersonView = { personId: 'ada', displayName: 'Ada Lovelace', rules: { muted: false, watchlist: false }, faces: [], rejectedPhotos: [] };
const matched: SightingView = {
  sightingId: 'f'.repeat(32),
  personId: 'ada',
  camera: 'front-door',
  seenAt: '2026-12-07T12:00:00.000Z',
  similarity: 91.25,
  boundingBox: { Width: 0.2, Height: 0.2, Left: 0.1, Top: 0.1 },
  snapshotUrl: 'http://127.0.0.1:4566/faces/snapshots/front-door/f.jpg',
};

function withApi(api: Partial<Api>, ui: preact.ComponentChild) {
  const full = { people: async () => ({ people: [ada], unfiledPhotos: [] }), ...api } as unknown as Api;
  return render(<Ctx.Provider value={{ api: full }}>{ui}</Ctx.Provider>);
}

describe('Sighting page', () => {
  it('shows the face, who it matched and how closely; "not this person" records the correction', async () => {
    // given a sighting of Ada at 91.25 %
    let current = matched;
    const notThisPerson = vi.fn(async (_id: string, _personId: string) => (current = { ...matched, personId: 'UNKNOWN', correctedFrom: 'ada', similarity: undefined }));
    withApi({ sighting: async () => current, notThisPerson }, <Sighting id={matched.sightingId} />);
    expect(await screen.findByRole('heading', { name: 'Ada Lovelace' })).toBeTruthy();
    expect(screen.getByText('91.3 %')).toBeTruthy();
    expect((screen.getByAltText('Face of Ada Lovelace') as HTMLImageElement).src).toBe(matched.snapshotUrl);
    // when the operator says it is not Ada
    fireEvent.click(screen.getByRole('button', { name: 'Not Ada Lovelace' }));
    // then the API is told, and the page shows an unknown face that was matched to Ada
    await waitFor(() => expect(notThisPerson).toHaveBeenCalledWith(matched.sightingId, 'ada'));
    expect(await screen.findByRole('heading', { name: 'Unknown face' })).toBeTruthy();
    expect(screen.getByText('was matched to Ada Lovelace')).toBeTruthy();
    expect(screen.queryByRole('button', { name: /^Not / })).toBeNull();
  });

  it('"this is" a new person sends the name; an existing one sends their id', async () => {
    const identify = vi.fn(async () => ({ sighting: matched, personId: 'x', photoKey: 'faces/x/y.jpg' }));
    withApi({ sighting: async () => ({ ...matched, personId: 'UNKNOWN', similarity: undefined }), identify }, <Sighting id={matched.sightingId} />);
    await screen.findByRole('heading', { name: 'Unknown face' });
    fireEvent.input(screen.getByLabelText('Name of the new person'), { target: { value: 'Grace Hopper' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(identify).toHaveBeenCalledWith(matched.sightingId, { name: 'Grace Hopper' }));
    fireEvent.change(screen.getByLabelText('This is'), { target: { value: 'ada' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(identify).toHaveBeenLastCalledWith(matched.sightingId, { personId: 'ada' }));
  });

  it('without a snapshot, offers no "this is" and says why', async () => {
    withApi({ sighting: async () => ({ ...matched, snapshotUrl: undefined }) }, <Sighting id={matched.sightingId} />);
    expect(await screen.findByText(/kept no face picture/)).toBeTruthy();
    expect(screen.queryByLabelText('This is')).toBeNull();
  });

  it('shows the API error when the sighting is gone', async () => {
    withApi({ sighting: async () => Promise.reject(new Error('No sighting with id "x"')) }, <Sighting id="x" />);
    expect((await screen.findByRole('alert')).textContent).toContain('No sighting with id');
  });
});

describe('Cameras page', () => {
  const camera = (state: ProcessorStatus['state']): ProcessorStatus => ({
    camera: 'front-door',
    mode: 'self',
    name: 'p',
    state,
    videoStream: { name: 'v' },
    dataStream: { name: 'd' },
    settings: {},
    lastFrameAt: '2026-12-07T12:00:00.000Z',
    lagSeconds: 1.25,
  });

  it('starts a stopped camera and stops a running one', async () => {
    let state: ProcessorStatus['state'] = 'STOPPED';
    const startProcessor = vi.fn(async () => ((state = 'RUNNING'), { processors: [camera(state)] }));
    const stopProcessor = vi.fn(async () => ((state = 'STOPPED'), { processors: [camera(state)] }));
    withApi({ processors: async () => ({ processors: [camera(state)] }), startProcessor, stopProcessor }, <Cameras />);
    fireEvent.click(await screen.findByRole('button', { name: 'Start front-door' }));
    await waitFor(() => expect(startProcessor).toHaveBeenCalledWith('front-door'));
    fireEvent.click(await screen.findByRole('button', { name: 'Stop front-door' }));
    await waitFor(() => expect(stopProcessor).toHaveBeenCalledWith('front-door'));
    expect(screen.getByText('1.3 s')).toBeTruthy();
  });
});
