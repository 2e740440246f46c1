/**
 * The API's own types, as its use cases declare them (type-only imports: nothing of the back end is bundled).
 */
export type { SightingView } from '../../shared/use-cases/sightings';
export type { PersonView, PeoplePage } from '../../shared/use-cases/people';
export type { ProcessorStatus } from '../../shared/use-cases/processor';
export type { UploadPlan } from '../../shared/use-cases/photo-uploads';
export type { Naming, VisitorView } from '../../shared/use-cases/visitors';
import type { PersonView } from '../../shared/use-cases/people';

export type PersonDetail = PersonView & { photoUrls?: Record<string, string> };

/** The API's error body. */
export interface ApiErrorBody {
  error: { code: string; message: string; field?: string; requestId?: string };
}

/** /console/config.json: how the page logs in. */
export type ConsoleConfig =
  | { auth: 'token' }
  | { auth: 'cognito'; region: string; userPoolId: string; clientId: string; domain: string };
