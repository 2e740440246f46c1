import sharp from 'sharp';
import { FrameCache, JpegSplitter, ShowinfoParser } from '../../../local/kinesis-video/frames';

async function jpeg(shade: number): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 48, channels: 3, background: { r: shade, g: 255 - shade, b: 100 } } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

describe('JpegSplitter', () => {
  it.each([1, 13, 4096])('splits concatenated JPEGs arriving in %i-byte chunks', async (chunk) => {
    // Given three JPEGs one after the other
    const images = await Promise.all([10, 120, 250].map(jpeg));
    const all = Buffer.concat(images);
    const out: Buffer[] = [];
    const splitter = new JpegSplitter((j) => out.push(j));
    // When they arrive in chunks
    for (let i = 0; i < all.length; i += chunk) splitter.push(all.subarray(i, i + chunk));
    // Then each comes out whole
    expect(out).toHaveLength(3);
    out.forEach((o, i) => expect(o.equals(images[i])).toBe(true));
  });
});

describe('ShowinfoParser', () => {
  it('reads frame timestamps with the time base', () => {
    const got: number[] = [];
    const p = new ShowinfoParser((ms) => got.push(ms));
    // When ffmpeg's showinfo lines arrive, one split across chunks
    p.push('[Parsed_showinfo_0 @ 0x1] config in time_base: 1/90000, frame_rate: 25/1\n[Parsed_showinfo_0 @ 0x1] n:   0 pts:  90000 pts_time:1 pos: 1\n');
    p.push('[Parsed_showinfo_0 @ 0x1] n:   1 pts:  93');
    p.push('600 pts_time:1.04\nframe= 2\n');
    // Then each frame's time is read in ms with the stream's time base
    expect(got).toEqual([1000, 1040]);
  });
});

describe('FrameCache', () => {
  it('keeps frames sorted, evicts least recently used complete entries, never live ones', () => {
    const cache = new FrameCache(100);
    // When a live entry gets frames out of order, then they are kept sorted
    cache.add('live', { ms: 40, jpeg: Buffer.alloc(30) });
    cache.add('live', { ms: 0, jpeg: Buffer.alloc(30) });
    expect(cache.get('live')?.frames.map((f) => f.ms)).toEqual([0, 40]);
    // When two complete entries overflow the budget, then the least recently used is evicted, never the live one
    cache.setComplete('a', [{ ms: 0, jpeg: Buffer.alloc(30) }]);
    cache.setComplete('b', [{ ms: 0, jpeg: Buffer.alloc(30) }]);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')?.complete).toBe(true);
    expect(cache.get('live')?.frames).toHaveLength(2);
  });

  it('wakes waiters when frames arrive', async () => {
    const cache = new FrameCache();
    const entry = cache.open('k');
    const waited = cache.wait(entry, 5000);
    setTimeout(() => cache.add('k', { ms: 1, jpeg: Buffer.alloc(1) }), 10);
    const t0 = Date.now();
    await waited;
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
