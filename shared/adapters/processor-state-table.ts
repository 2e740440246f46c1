import { isConditionalCheckFailed } from './dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { tables } from '../tables';
import type { Lease, ProcessorStateItem, ProcessorStateStore, StoredSettings } from '../use-cases/run-processor-worker';

const KEY = tables.processorState.partitionKey;

/**
 * The self-managed processor's state in DynamoDB, one item per camera. Every transition is a conditional
 * write, so concurrent API calls and worker runs cannot both win: that is what makes the lease exclusive.
 */
export class ProcessorStateTable implements ProcessorStateStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(camera: string): Promise<ProcessorStateItem | undefined> {
    const r = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { [KEY]: camera }, ConsistentRead: true }));
    return r.Item as ProcessorStateItem | undefined;
  }

  async start(
    camera: string,
    s: { sessionId: string; leaseToken: string; cursorMs: number; nowMs: number; leaseUntil: number; settings?: StoredSettings },
  ): Promise<{ item: ProcessorStateItem; started: boolean }> {
    const iso = new Date(s.nowMs).toISOString();
    const fresh = await this.update({
      Key: { [KEY]: camera },
      UpdateExpression:
        'SET #status = :running, sessionId = :session, lastChangeAt = :iso, createdAt = if_not_exists(createdAt, :iso), ' +
        'cursorMs = :cursor, framesAnalysed = :zero, leaseToken = :token, leaseClaimed = :false, leaseUntil = :until' +
        (s.settings ? ', settings = :settings' : '') +
        ' REMOVE statusMessage, lastFrameMs',
      ConditionExpression: 'attribute_not_exists(#key) OR #status IN (:stopped, :failed)',
      ExpressionAttributeNames: { '#status': 'status', '#key': KEY },
      ExpressionAttributeValues: {
        ':running': 'RUNNING',
        ':stopped': 'STOPPED',
        ':failed': 'FAILED',
        ':session': s.sessionId,
        ':iso': iso,
        ':cursor': s.cursorMs,
        ':zero': 0,
        ':token': s.leaseToken,
        ':false': false,
        ':until': s.leaseUntil,
        ...(s.settings ? { ':settings': s.settings } : {}),
      },
    });
    if (fresh) return { item: fresh, started: true };

    // Already RUNNING (or STOPPING): a new worker only if the lease expired, i.e. the chain broke.
    const revived = await this.revive(camera, { leaseToken: s.leaseToken, nowMs: s.nowMs, leaseUntil: s.leaseUntil });
    if (revived) return { item: revived, started: true };
    const item = await this.get(camera);
    if (!item) throw new Error(`processor state of camera ${camera} vanished during start`);
    return { item, started: false };
  }

  async requestStop(camera: string, nowMs: number): Promise<ProcessorStateItem | undefined> {
    const iso = new Date(nowMs).toISOString();
    // A live, claimed lease means a worker is running: it finishes its window and sets STOPPED itself. A lease
    // handed over but not yet claimed has no worker to see STOPPING (the next run cannot claim a stopped
    // camera), and an expired one's holder died: both stop at once.
    const stopping = await this.update({
      Key: { [KEY]: camera },
      UpdateExpression: 'SET #status = :stopping, lastChangeAt = :iso',
      ConditionExpression: '#status = :running AND leaseClaimed = :true AND leaseUntil >= :now',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':running': 'RUNNING', ':stopping': 'STOPPING', ':iso': iso, ':now': nowMs, ':true': true },
    });
    if (stopping) return stopping;
    const stopped = await this.update({
      Key: { [KEY]: camera },
      UpdateExpression: 'SET #status = :stopped, lastChangeAt = :iso REMOVE leaseToken, leaseClaimed, leaseUntil',
      ConditionExpression: '#status = :running OR (#status = :stopping AND leaseUntil < :now)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':running': 'RUNNING', ':stopping': 'STOPPING', ':stopped': 'STOPPED', ':iso': iso, ':now': nowMs },
    });
    return stopped ?? this.get(camera);
  }

  /**
   * A new worker run for a RUNNING processor whose lease expired (its run died or its chain broke): the lease is
   * handed to `leaseToken`, not yet claimed, so that exactly one invoked run can claim it. With `sessionId`, only
   * in that session. Undefined when a worker still holds the lease, or the processor is not RUNNING.
   */
  async revive(camera: string, r: { sessionId?: string; leaseToken: string; nowMs: number; leaseUntil: number }): Promise<ProcessorStateItem | undefined> {
    return this.update({
      Key: { [KEY]: camera },
      UpdateExpression: 'SET leaseToken = :token, leaseClaimed = :false, leaseUntil = :until',
      ConditionExpression: '#status = :running AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)' + (r.sessionId ? ' AND sessionId = :session' : ''),
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':running': 'RUNNING',
        ':token': r.leaseToken,
        ':false': false,
        ':until': r.leaseUntil,
        ':now': r.nowMs,
        ...(r.sessionId ? { ':session': r.sessionId } : {}),
      },
    });
  }

  /** STOPPING → STOPPED in that session once the lease expired: the worker that was to see the stop died. */
  async settleStop(camera: string, sessionId: string, nowMs: number): Promise<ProcessorStateItem | undefined> {
    return this.update({
      Key: { [KEY]: camera },
      UpdateExpression: 'SET #status = :stopped, lastChangeAt = :iso REMOVE leaseToken, leaseClaimed, leaseUntil',
      ConditionExpression: '#status = :stopping AND sessionId = :session AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':stopping': 'STOPPING', ':stopped': 'STOPPED', ':session': sessionId, ':iso': new Date(nowMs).toISOString(), ':now': nowMs },
    });
  }

  async claim(lease: Lease, nowMs: number, leaseUntil: number, settings: StoredSettings): Promise<ProcessorStateItem | undefined> {
    return this.update({
      Key: { [KEY]: lease.camera },
      UpdateExpression: 'SET leaseToken = :token, leaseClaimed = :true, leaseUntil = :until, settings = :settings',
      ConditionExpression:
        '#status = :running AND sessionId = :session AND ((leaseToken = :token AND leaseClaimed = :false) OR leaseUntil < :now)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':running': 'RUNNING',
        ':session': lease.sessionId,
        ':token': lease.token,
        ':true': true,
        ':false': false,
        ':until': leaseUntil,
        ':now': nowMs,
        ':settings': settings,
      },
    });
  }

  async renew(lease: Lease, _nowMs: number, leaseUntil: number): Promise<boolean> {
    return Boolean(
      await this.update({
        Key: { [KEY]: lease.camera },
        UpdateExpression: 'SET leaseUntil = :until',
        ConditionExpression: this.holding,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ...this.holdingValues(lease), ':until': leaseUntil },
      }),
    );
  }

  async checkpoint(
    lease: Lease,
    progress: { cursorMs: number; lastFrameMs?: number; framesAnalysed: number },
    nowMs: number,
    leaseUntil: number,
  ): Promise<boolean> {
    return Boolean(
      await this.update({
        Key: { [KEY]: lease.camera },
        UpdateExpression:
          'SET cursorMs = :cursor, framesAnalysed = :frames, leaseUntil = :until, checkpointAt = :now' +
          (progress.lastFrameMs !== undefined ? ', lastFrameMs = :last' : ''),
        ConditionExpression: this.holding,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ...this.holdingValues(lease),
          ':cursor': progress.cursorMs,
          ':frames': progress.framesAnalysed,
          ':until': leaseUntil,
          ':now': nowMs,
          ...(progress.lastFrameMs !== undefined ? { ':last': progress.lastFrameMs } : {}),
        },
      }),
    );
  }

  async handOff(lease: Lease, nextToken: string, _nowMs: number, leaseUntil: number): Promise<boolean> {
    return Boolean(
      await this.update({
        Key: { [KEY]: lease.camera },
        UpdateExpression: 'SET leaseToken = :next, leaseClaimed = :false, leaseUntil = :until',
        ConditionExpression: this.holding,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ...this.holdingValues(lease), ':next': nextToken, ':false': false, ':until': leaseUntil },
      }),
    );
  }

  async release(lease: Lease, nowMs: number): Promise<void> {
    const iso = new Date(nowMs).toISOString();
    const stopped = await this.update({
      Key: { [KEY]: lease.camera },
      UpdateExpression: 'SET #status = :stopped, lastChangeAt = :iso REMOVE leaseToken, leaseClaimed, leaseUntil',
      ConditionExpression: '#status = :stopping AND sessionId = :session',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':stopping': 'STOPPING', ':stopped': 'STOPPED', ':session': lease.sessionId, ':iso': iso },
    });
    if (stopped) return;
    // Still RUNNING (a crash, not a stop): expire our lease so the next attempt can take over at once.
    await this.update({
      Key: { [KEY]: lease.camera },
      UpdateExpression: 'SET leaseUntil = :expired',
      ConditionExpression: 'sessionId = :session AND leaseToken = :token',
      ExpressionAttributeValues: { ':session': lease.sessionId, ':token': lease.token, ':expired': 0 },
    });
  }

  async fail(lease: Pick<Lease, 'camera' | 'sessionId'>, message: string, nowMs: number): Promise<void> {
    await this.update({
      Key: { [KEY]: lease.camera },
      UpdateExpression: 'SET #status = :failed, statusMessage = :message, lastChangeAt = :iso REMOVE leaseToken, leaseClaimed, leaseUntil',
      ConditionExpression: 'sessionId = :session AND #status IN (:running, :stopping)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':failed': 'FAILED',
        ':running': 'RUNNING',
        ':stopping': 'STOPPING',
        ':session': lease.sessionId,
        ':message': message.slice(0, 1000),
        ':iso': new Date(nowMs).toISOString(),
      },
    });
  }

  /** The lease is ours and the processor still runs in our session. */
  private readonly holding = '#status = :running AND sessionId = :session AND leaseToken = :token AND leaseClaimed = :true';

  private holdingValues(lease: Lease): Record<string, unknown> {
    return { ':running': 'RUNNING', ':session': lease.sessionId, ':token': lease.token, ':true': true };
  }

  /** The item after the update, or undefined when the condition did not hold. */
  private async update(input: Omit<UpdateCommandInput, 'TableName' | 'ReturnValues'>): Promise<ProcessorStateItem | undefined> {
    try {
      const r = await this.documents.send(new UpdateCommand({ ...input, TableName: this.tableName, ReturnValues: 'ALL_NEW' }));
      return r.Attributes as ProcessorStateItem;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }
}
