import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Api } from '../src/api';
import { putFile } from '../src/api';
import { Upload } from '../src/components/Upload';
import { Ctx } from '../src/context';

vi.mock('../src/api', async (original) => ({ ...(await original<typeof import('../src/api')>()), putFile: vi.fn(async (_u: string, _f: Blob, _t: string, p: (x: number) => void) => p(1)) }));

afterEach(cleanup);

const jpeg = (name: string) => new File([new Uint8Array([0xff, 0xd8, 0xff, 0xe0])], name, { type: 'image/jpeg' });

function mount(api: Partial<Api>, onDone = vi.fn()) {
  render(
    <Ctx.Provider value={{ api: api as Api }}>
      <Upload onDone={onDone} />
    </Ctx.Provider>,
  );
  return onDone;
}

describe('Upload', () => {
  it('asks for upload links, PUTs each file, then reports what the indexer made of each', async () => {
    // given: two photos of Grace, the indexer registers one and refuses the other
    const uploads = vi.fn(async () => ({
      personId: 'Grace',
      displayName: 'Grace',
      expiresInSeconds: 900,
      uploads: [
        { fileName: 'a.jpg', photoKey: 'faces/Grace/a-1.jpg', url: 'http://s/a', method: 'PUT' as const, headers: { 'content-type': 'image/jpeg' } },
        { fileName: 'b.jpg', photoKey: 'faces/Grace/b-2.jpg', url: 'http://s/b', method: 'PUT' as const, headers: { 'content-type': 'image/jpeg' } },
      ],
    }));
    const person = vi.fn(async () => ({
      personId: 'Grace',
      displayName: 'Grace',
      rules: { muted: false, watchlist: false },
      faces: [{ faceId: 'f', photoKey: 'faces/Grace/a-1.jpg', confidence: 99, quality: {}, boundingBox: { Width: 1, Height: 1, Left: 0, Top: 0 }, indexedAt: '' }],
      rejectedPhotos: [{ photoKey: 'faces/Grace/b-2.jpg', reason: 'NO_FACE', message: 'No face was found: use a photo with one face', recordedAt: '' }],
    }));
    const people = vi.fn(async () => ({ people: [await person()], unfiledPhotos: [] }));
    const onDone = mount({ uploads, people, person });
    // when
    fireEvent.input(screen.getByLabelText('Name'), { target: { value: ' Grace ' } });
    fireEvent.change(screen.getByLabelText(/^Photos/), { target: { files: [jpeg('a.jpg'), jpeg('b.jpg')] } });
    fireEvent.click(screen.getByRole('button', { name: 'Upload' }));
    // then
    await waitFor(() => expect(onDone).toHaveBeenCalledWith('Grace'), { timeout: 5000 });
    expect(uploads).toHaveBeenCalledWith({ name: 'Grace' }, [
      { fileName: 'a.jpg', contentType: 'image/jpeg', bytes: 4 },
      { fileName: 'b.jpg', contentType: 'image/jpeg', bytes: 4 },
    ]);
    expect(vi.mocked(putFile).mock.calls.map((c) => c[0])).toEqual(['http://s/a', 'http://s/b']);
    expect(screen.getByText('registered')).toBeTruthy();
    expect(people).toHaveBeenCalled(); // a new person is looked for in the list (no 404 while the indexer works)
    expect(screen.getByText(/refused: No face was found/)).toBeTruthy();
  });

  it('refuses a file that is not a JPEG or PNG before uploading anything', async () => {
    const uploads = vi.fn();
    mount({ uploads });
    fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'Grace' } });
    fireEvent.change(screen.getByLabelText(/^Photos/), { target: { files: [new File(['hello'], 'notes.txt', { type: 'text/plain' })] } });
    fireEvent.click(screen.getByRole('button', { name: 'Upload' }));
    expect((await screen.findByRole('alert')).textContent).toContain('“notes.txt” is not a JPEG or PNG photo.');
    expect(uploads).not.toHaveBeenCalled();
  });
});
