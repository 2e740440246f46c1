import { Semaphore, deferred } from '../../../shared/concurrency';

describe('Semaphore', () => {
  it('given two permits, when four tasks run, then at most two run at once and they start in the order they asked', async () => {
    // given
    const permits = new Semaphore(2);
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const gates = [deferred(), deferred(), deferred(), deferred()];
    // when
    const tasks = gates.map((gate, i) =>
      permits.run(async () => {
        started.push(i);
        most = Math.max(most, ++running);
        await gate.promise;
        running -= 1;
        return i;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    gates[1].resolve();
    await tasks[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    gates.forEach((g) => g.resolve());
    // then
    expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3]);
    expect(started).toEqual([0, 1, 2, 3]);
    expect(most).toBe(2);
  });

  it('gives the permit back when the task throws', async () => {
    const permits = new Semaphore(1);
    await expect(permits.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await permits.run(async () => 'next')).toBe('next');
  });
});
