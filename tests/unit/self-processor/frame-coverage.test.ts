import { expectedSampleTimes, frameCoverage } from '../../support/frame-coverage';

// 10 frames/s video sampled every 200 ms: a sample shows the last 100 ms frame at or before it.
const options = { intervalMs: 200, frameMs: 100, gridMs: 50 };
// Two fragments with a 90 ms hole between them (server times are arrival times), then a later one.
const fragments = [
  { serverStartMs: 10_000, durationMs: 1_000 },
  { serverStartMs: 11_090, durationMs: 1_000 },
  { serverStartMs: 30_000, durationMs: 1_000 },
];
/** What the processor writes for a sample time: the frame shown then. */
const shown = (t: number) => {
  const f = fragments.filter((x) => t >= x.serverStartMs && t < x.serverStartMs + x.durationMs).at(-1)!;
  return f.serverStartMs + Math.floor((t - f.serverStartMs) / 100) * 100;
};

describe('frame coverage of a processed video (test support)', () => {
  const samples = expectedSampleTimes(fragments, options);

  it('expects a sample at every grid time that falls on video, none in the holes between fragments', () => {
    expect(samples.slice(0, 6)).toEqual([10_050, 10_250, 10_450, 10_650, 10_850, 11_250]); // 11,050 is in the hole
    expect(samples.filter((t) => t >= 30_000)).toEqual([30_050, 30_250, 30_450, 30_650, 30_850]);
    expect(expectedSampleTimes(fragments, { ...options, fromMs: 30_300 })).toEqual([30_450, 30_650, 30_850]);
  });

  it('counts nothing lost when every sample has its record', () => {
    expect(frameCoverage(samples.map(shown), fragments, options)).toEqual({ expected: samples.length, analysed: samples.length, missing: 0, gaps: [] });
  });

  it('counts each sample without its record, in gaps, and a frame written twice once', () => {
    const kept = samples.filter((_, i) => i >= 2 && !(i >= 6 && i < 9) && i !== samples.length - 1);
    const coverage = frameCoverage([...kept.map(shown), ...kept.slice(0, 4).map(shown)], fragments, options);
    expect(coverage).toMatchObject({ expected: samples.length, missing: 6, analysed: samples.length - 6 });
    expect(coverage.gaps).toEqual([
      { fromMs: samples[0], toMs: samples[1], frames: 2 },
      { fromMs: samples[6], toMs: samples[8], frames: 3 },
      { fromMs: samples.at(-1), toMs: samples.at(-1), frames: 1 },
    ]);
  });

  it('does not take a record of another frame for the sample\'s', () => {
    // the record at 10,100 is the frame of the sample at 10,200; the sample at 10,000 has none
    expect(frameCoverage([10_100], [{ serverStartMs: 10_000, durationMs: 400 }], { ...options, gridMs: 0 })).toMatchObject({ expected: 2, analysed: 1, missing: 1 });
  });
});
