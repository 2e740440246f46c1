import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { ownFunctionName, workerDependencies, workerTiming } from '../../shared/composition/processor-worker';
import { logger, metrics } from '../../shared/observability';
import { runProcessorWorker, type WorkerOutcome } from '../../shared/use-cases/run-processor-worker';

/**
 * The self-managed face-search processor's worker: one run analyses the camera's live video for about its
 * timeout minus a margin, then invokes the next run (asynchronously) while the processor is RUNNING.
 * Invoked by the `self` processor port (POST /processor/start) and by itself; never by anything else.
 * Its ports and settings come from shared/composition/processor-worker.ts.
 */

/** Time kept back from the Lambda timeout to write the last window, hand the lease over and invoke the next run. */
const END_MARGIN_MS = 20_000;

const WorkerEventSchema = z.object({
  camera: z.string().min(1),
  sessionId: z.string().min(1),
  leaseToken: z.string().min(1),
});

export async function handler(event: unknown, context: Pick<Context, 'functionName' | 'getRemainingTimeInMillis'>): Promise<WorkerOutcome | { outcome: 'rejected'; message: string }> {
  const parsed = WorkerEventSchema.safeParse(event);
  if (!parsed.success) {
    // A malformed invocation is nobody's worker run: say why and do not let Lambda retry it.
    const message = `Not a processor worker event: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`;
    logger.error(message);
    return { outcome: 'rejected', message };
  }
  logger.appendKeys({ camera: parsed.data.camera, sessionId: parsed.data.sessionId });
  const outcome = await runProcessorWorker(parsed.data, workerDependencies(ownFunctionName ?? context.functionName), {
    ...workerTiming,
    sliceMs: context.getRemainingTimeInMillis() - END_MARGIN_MS,
  });
  if ('slice' in outcome && outcome.slice) {
    metrics.addDimension('camera', parsed.data.camera);
    metrics.addMetric('FramesAnalysed', 'Count', outcome.slice.framesAnalysed);
    metrics.addMetric('FacesFound', 'Count', outcome.slice.facesFound);
    metrics.addMetric('FacesSearched', 'Count', outcome.slice.facesSearched);
    metrics.addMetric('SearchesReused', 'Count', outcome.slice.searchesReused);
    metrics.addMetric('VisitorLookups', 'Count', outcome.slice.visitorLookups);
    metrics.addMetric('VisitorsIndexed', 'Count', outcome.slice.visitorsIndexed);
    metrics.addMetric('VideoSkippedSeconds', 'Seconds', outcome.slice.skippedMs / 1000);
    metrics.publishStoredMetrics();
  }
  logger.info('Worker run ended', { outcome: outcome.outcome, ...('slice' in outcome && outcome.slice ? { slice: outcome.slice } : {}) });
  return outcome;
}
