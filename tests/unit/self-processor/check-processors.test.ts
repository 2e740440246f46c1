import { checkProcessors } from '../../../shared/use-cases/check-processors';
import type { ProcessorStateItem } from '../../../shared/use-cases/run-processor-worker';

const NOW = Date.parse('2026-12-07T12:00:00Z');
const item = (camera: string, status: ProcessorStateItem['status'], extra: Partial<ProcessorStateItem> = {}): ProcessorStateItem => ({
  camera,
  status,
  sessionId: 's',
  createdAt: '2026-12-07T10:00:00Z',
  lastChangeAt: '2026-12-07T11:00:00Z',
  ...extra,
});

describe('checkProcessors', () => {
  it('given cameras in every state, when checked, then only a RUNNING one has a stall: the age of its last checkpoint', async () => {
    // given
    const items = new Map([
      ['door', item('door', 'RUNNING', { checkpointAt: NOW - 12_000 })],
      ['yard', item('yard', 'STOPPED', { checkpointAt: NOW - 3_600_000 })],
      ['gate', item('gate', 'RUNNING', { lastChangeAt: new Date(NOW - 420_000).toISOString() })],
    ]);
    // when
    const health = await checkProcessors({ get: async (c) => items.get(c) }, ['door', 'yard', 'gate', 'shed'], NOW);
    // then
    expect(health).toEqual([
      { camera: 'door', status: 'RUNNING', stalledSeconds: 12 },
      { camera: 'yard', status: 'STOPPED', stalledSeconds: 0 },
      { camera: 'gate', status: 'RUNNING', stalledSeconds: 420 },
      { camera: 'shed', status: 'NONE', stalledSeconds: 0 },
    ]);
  });

  it('given a restart after an old checkpoint, when checked, then the stall counts from the restart', async () => {
    const restarted = item('door', 'RUNNING', { checkpointAt: NOW - 7_200_000, lastChangeAt: new Date(NOW - 30_000).toISOString() });
    expect(await checkProcessors({ get: async () => restarted }, ['door'], NOW)).toEqual([{ camera: 'door', status: 'RUNNING', stalledSeconds: 30 }]);
  });
});
