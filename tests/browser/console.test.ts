/**
 * The operator console in a real browser against the running local stack, as an operator uses it: log in with the
 * link `npm start` prints, register a person by uploading a photo, start the camera, see the sighting with its face
 * appear in Live by itself, correct it, name an unknown visitor, erase the person. Screenshots of each page go to
 * docs/console/ (docs/console.md shows them).
 */
import '../support/quiet-logs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { streamCamera } from '../../local/kinesis-video/camera';
import { MARCO, STRANGERS, cropFace, sourcePath } from '../../local/demo/cast';
import { StackClient } from '../../local/demo/harness';
import { buildVideo } from '../../local/demo/video';
import { LOCAL_CREDENTIALS, startLocalStack, type LocalStack } from '../../local/stack/stack';
import { hasChromium, openBrowser, type BrowserSession } from '../support/browser';

jest.setTimeout(300_000);

const CAMERA = 'front-door';

/** What the page-side callbacks read (this project's tsconfig has no DOM library). */
interface LoadedImage {
  alt: string;
  complete: boolean;
  naturalWidth: number;
}
interface Dom {
  document: { querySelectorAll(selector: 'img'): Iterable<LoadedImage>; documentElement: { scrollWidth: number; clientWidth: number } };
}
const SHOTS = path.join(__dirname, '..', '..', 'docs', 'console');
const describeInBrowser = hasChromium() ? describe : describe.skip;

describeInBrowser('operator console (Chromium, local stack)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-console-'));
  const videoFile = path.join(dataDir, 'known-then-stranger.mp4');
  const photoFile = path.join(dataDir, `${MARCO.name}.jpg`);
  let stack: LocalStack;
  let client: StackClient;
  let session: BrowserSession;
  const camera = new AbortController();
  let streaming: Promise<unknown> | undefined;
  let marcoId: string;

  const page = () => session.page;
  const shot = (name: string) => page().screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    const [started] = await Promise.all([
      startLocalStack({ dataDir, port: 0, apiPort: 0, mailPort: 0, quiet: true, print: () => undefined }),
      buildVideo(
        [
          { durationSec: 4, faces: [MARCO.onCamera[0]] },
          { durationSec: 4, faces: [STRANGERS[0]] },
        ],
        videoFile,
      ),
      cropFace(sourcePath(MARCO.registration.source), MARCO.registration.box).then((jpeg) => fs.writeFileSync(photoFile, jpeg)),
    ]);
    stack = started;
    client = new StackClient({ ...stack, dataDir, region: stack.stackInfo.region, credentials: LOCAL_CREDENTIALS });
    session = await openBrowser();
    fs.mkdirSync(SHOTS, { recursive: true });
  });

  afterAll(async () => {
    camera.abort();
    await streaming?.catch(() => undefined);
    await session?.close();
    await stack?.stop();
    // FACEWATCH_KEEP_TEST_DATA=1 keeps the stack's data dir (function logs) to look at a failure.
    if (!process.env.FACEWATCH_KEEP_TEST_DATA) fs.rmSync(dataDir, { recursive: true, force: true });
    else console.log(`kept ${dataDir}`);
  });

  it('given the link npm start prints, when it is opened, then the page is logged in and the token leaves the address bar', async () => {
    // when
    await page().goto(`${stack.consoleUrl}#token=${encodeURIComponent(stack.token)}`);
    // then
    await page().getByRole('heading', { name: 'Live' }).waitFor();
    expect(page().url()).toBe(`${stack.consoleUrl}#/`);
    expect(page().url()).not.toContain(stack.token);
    expect(await page().evaluate(() => sessionStorage.getItem('facewatch.token'))).toBe(stack.token);
    await page().getByText('No sightings yet.').waitFor();
  });

  it('when a person is added by uploading a photo in the page, then the photo is registered through the S3-triggered indexer', async () => {
    // given
    await page().getByRole('link', { name: 'People' }).click();
    await page().getByRole('heading', { name: 'People' }).waitFor();
    // when
    await page().getByLabel('Name').fill(MARCO.name);
    await page().getByLabel(/^Photos/).setInputFiles(photoFile);
    await page().getByRole('button', { name: 'Upload' }).click();
    // then: the page follows the upload to the indexer's answer, then opens the person
    await page().getByRole('heading', { name: MARCO.name }).waitFor({ timeout: 60_000 });
    await page().getByRole('heading', { name: 'Registered photos (1)' }).waitFor({ timeout: 30_000 });
    const people = await client.people();
    const marco = people.find((p) => p.displayName === MARCO.name);
    expect(marco?.faces).toHaveLength(1);
    expect(marco!.faces[0].photoKey).toMatch(new RegExp(`^faces/${MARCO.name}/${MARCO.name.replace(/ /g, "-")}-[0-9a-f]{8}\\.jpg$`));
    marcoId = marco!.personId;
    // the registered photo is shown (a presigned link that loads)
    const photo = page().getByRole('img', { name: /^Photo / });
    await photo.waitFor();
    expect(await photo.evaluate((img) => (img as unknown as LoadedImage).complete && (img as unknown as LoadedImage).naturalWidth > 0)).toBe(true);
    await shot('person');
  });

  it('when the camera is started from the Cameras page and video arrives, then the sighting appears in Live by itself, with its face', async () => {
    // given: Live is open, and nothing has been seen yet
    await page().getByRole('link', { name: 'Live' }).click();
    await page().getByText('No sightings yet.').waitFor();
    // when: start the processor in another tab's worth of navigation, then come back to Live
    await page().getByRole('link', { name: 'Cameras' }).click();
    await page().getByRole('button', { name: `Start ${CAMERA}` }).click();
    await page().getByRole('button', { name: `Stop ${CAMERA}` }).waitFor({ timeout: 30_000 });
    streaming = streamCamera({
      endpoint: stack.endpoint,
      streamName: (await client.processor(CAMERA)).videoStream.name!,
      source: { file: videoFile, loop: true },
      region: stack.stackInfo.region,
      credentials: LOCAL_CREDENTIALS,
      signal: camera.signal,
    });
    await page().getByRole('link', { name: 'Live' }).click();
    // then: no reload: the page polls
    const marcoRow = page().locator(`li.sighting[data-person="${marcoId}"]`).first();
    await marcoRow.waitFor({ timeout: 120_000 });
    const face = marcoRow.getByRole('img', { name: `Face of ${MARCO.name}` });
    await face.waitFor({ timeout: 30_000 });
    await page().waitForFunction((name) => [...(globalThis as unknown as Dom).document.querySelectorAll('img')].some((i) => i.alt === `Face of ${name}` && i.complete && i.naturalWidth > 0), MARCO.name);
    await page().locator('li.sighting[data-person="UNKNOWN"]').first().waitFor({ timeout: 60_000 });
    await shot('live');
    await page().getByRole('link', { name: 'Cameras' }).click();
    await page().getByText(/\d+\.\d s/).first().waitFor({ timeout: 30_000 });
    await shot('cameras');
  });

  it('when a matched sighting is opened and marked "not this person", then it becomes an unknown face that was matched to them', async () => {
    // given
    await page().getByRole('link', { name: 'Live' }).click();
    await page().locator(`li.sighting[data-person="${marcoId}"] a`).first().click();
    await page().getByRole('heading', { name: MARCO.name }).waitFor();
    await shot('sighting');
    const sightingId = decodeURIComponent(new URL(page().url()).hash.replace('#/sightings/', ''));
    // when
    await page().getByRole('button', { name: `Not ${MARCO.name}` }).click();
    // then
    await page().getByText(`was matched to ${MARCO.name}`).waitFor();
    const after = await fetch(`${stack.apiUrl}/sightings/${sightingId}`, { headers: { authorization: `Bearer ${stack.token}` } }).then((r) => r.json());
    expect(after).toMatchObject({ sightingId, personId: 'UNKNOWN', correctedFrom: marcoId });
  });

  it('when the stranger, a recurring unknown visitor, is named in the Visitors page, then they are registered from their best snapshot and their sightings are theirs', async () => {
    // given: the stranger of the video has become a visitor with a snapshot
    await page().getByRole('link', { name: 'Visitors' }).click();
    await page().getByRole('heading', { name: 'Unknown visitors' }).waitFor();
    const visitor = page().locator('li.visitor a').first();
    await visitor.waitFor({ timeout: 90_000 });
    await page().waitForFunction(() => [...(globalThis as unknown as Dom).document.querySelectorAll('img')].some((i) => i.alt.startsWith('Face of Unknown visitor') && i.complete && i.naturalWidth > 0), undefined, { timeout: 60_000 });
    await shot('visitors');
    await visitor.click();
    const visitorId = decodeURIComponent(new URL(page().url()).hash.replace('#/visitors/', ''));
    expect(visitorId).toMatch(/^v-[0-9a-f]{16}$/);
    // when
    await page().getByLabel('Name of the new person').fill('Stranger One');
    await page().getByRole('button', { name: 'Save' }).click();
    // then
    await page().getByRole('heading', { name: 'Visitor named' }).waitFor({ timeout: 30_000 });
    const named = await client.waitForFace('Stranger One', `faces/Stranger One/visitor-${visitorId}.jpg`);
    const moved = await fetch(`${stack.apiUrl}/sightings?personId=${encodeURIComponent(named.personId)}`, { headers: { authorization: `Bearer ${stack.token}` } }).then((r) => r.json() as Promise<{ sightings: unknown[] }>);
    expect(moved.sightings.length).toBeGreaterThan(0);
    const gone = await fetch(`${stack.apiUrl}/visitors/${visitorId}`, { headers: { authorization: `Bearer ${stack.token}` } });
    expect(gone.status).toBe(404);
    await page().getByRole('link', { name: 'Open the person' }).click();
    await page().getByRole('heading', { name: 'Stranger One' }).waitFor();
  });

  it('when the person is erased with the confirmation, then their faces, photos and sightings are gone', async () => {
    // given
    await page().goto(`${stack.consoleUrl}#/people/${encodeURIComponent(marcoId)}`);
    await page().getByRole('heading', { name: MARCO.name }).waitFor();
    camera.abort();
    // when
    await page().getByRole('button', { name: `Erase ${MARCO.name}…` }).click();
    const dialog = page().getByRole('dialog');
    await dialog.getByText(/It cannot be undone/).waitFor();
    await shot('erase');
    await dialog.getByRole('button', { name: 'Erase everything' }).click();
    // then
    await page().getByRole('heading', { name: 'Erased' }).waitFor();
    expect(await page().getByRole('status').textContent()).toMatch(/Removed 1 faces, 1 photos, \d+ sightings/);
    expect((await client.people()).some((p) => p.personId === marcoId)).toBe(false);
  });

  it('every control of every page has a name and is reachable by keyboard; the first load is under 150 KB of JavaScript gzipped', async () => {
    // given: a fresh load that records every script it gets
    const scripts: Buffer[] = [];
    const onResponse = async (response: { url(): string; body(): Promise<Buffer>; headers(): Record<string, string> }) => {
      if ((response.headers()['content-type'] ?? '').includes('javascript')) scripts.push(await response.body());
    };
    page().on('response', onResponse);
    await page().goto('about:blank');
    await page().goto(`${stack.consoleUrl}#/`);
    await page().getByRole('heading', { name: 'Live' }).waitFor();
    page().off('response', onResponse);
    const gzipped = scripts.reduce((sum, body) => sum + gzipSync(body).length, 0);
    expect(scripts.length).toBeGreaterThan(0);
    expect(gzipped).toBeLessThanOrEqual(150 * 1024);
    // then, on each page
    for (const [route, heading] of [['#/', 'Live'], ['#/people', 'People'], ['#/visitors', 'Unknown visitors'], ['#/cameras', 'Cameras']] as const) {
      await page().goto(`${stack.consoleUrl}${route}`);
      await page().getByRole('heading', { name: heading, exact: true }).waitFor();
      const unnamed = await page().evaluate(() => {
        const doc = (globalThis as unknown as Dom).document as unknown as { querySelectorAll(s: string): Iterable<Control> };
        interface Control {
          tagName: string;
          type?: string;
          tabIndex: number;
          textContent: string | null;
          labels?: { length: number } | null;
          getAttribute(name: string): string | null;
          outerHTML: string;
        }
        const named = (el: Control) =>
          Boolean(el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || (el.labels && el.labels.length > 0) || (el.tagName !== 'INPUT' && el.textContent?.trim()));
        return [...doc.querySelectorAll('a[href], button, input, select, textarea')].filter((el) => !named(el) || el.tabIndex < 0).map((el) => el.outerHTML.slice(0, 120));
      });
      expect({ route, unnamed }).toEqual({ route, unnamed: [] });
    }
    // and Tab walks from the skip link into the page's controls
    await page().goto(`${stack.consoleUrl}#/people`);
    await page().getByRole('heading', { name: 'People', exact: true }).waitFor();
    const focused: string[] = [];
    for (let i = 0; i < 8; i++) {
      await page().keyboard.press('Tab');
      focused.push(await page().evaluate(() => {
        const el = (globalThis as unknown as { document: { activeElement: { tagName: string; textContent: string | null } | null } }).document.activeElement;
        return el ? `${el.tagName}:${(el.textContent ?? '').trim().slice(0, 20)}` : '';
      }));
    }
    expect(focused[0]).toBe('A:Skip to content');
    expect(focused).toEqual(expect.arrayContaining(['A:People', 'A:Cameras', 'INPUT:', 'BUTTON:Upload']));
  });

  it('in a phone-width window every page fits, and no page logged an error', async () => {
    await page().setViewportSize({ width: 390, height: 844 });
    for (const [route, heading] of [['#/', 'Live'], ['#/people', 'People'], ['#/cameras', 'Cameras']] as const) {
      await page().goto(`${stack.consoleUrl}${route}`);
      await page().getByRole('heading', { name: heading, exact: true }).waitFor();
      const overflow = await page().evaluate(() => {
        const root = (globalThis as unknown as Dom).document.documentElement;
        return root.scrollWidth - root.clientWidth;
      });
      expect(overflow).toBeLessThanOrEqual(0);
    }
    await page().goto(`${stack.consoleUrl}#/`);
    await page().getByRole('heading', { name: 'Live' }).waitFor();
    await shot('live-phone');
    expect(session.problems).toEqual([]);
  });
});
