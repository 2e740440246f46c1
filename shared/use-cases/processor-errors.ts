
/** How the self processor classifies errors: those no retry can fix, and those about one frame only. */

/** Errors no retry can fix: the processor goes FAILED with this message, as the managed one does. */
const PERMANENT_ERRORS: Record<string, string> = {
  ResourceNotFoundException: 'a resource the processor needs does not exist (collection or video stream)',
  AccessDeniedException: 'access denied',
  NotAuthorizedException: 'access to the Kinesis Video stream denied',
  NoDataRetentionException: 'the Kinesis Video stream keeps no data (DataRetentionInHours = 0): GetImages needs retention',
  ProcessorSettingsError: 'bad settings',
};

export class ProcessorFailure extends Error {
  override readonly name = 'ProcessorFailure';
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
  }
}

export function permanentFailure(error: unknown): ProcessorFailure | undefined {
  const name = (error as Error)?.name;
  const reason = name ? PERMANENT_ERRORS[name] : undefined;
  return reason ? new ProcessorFailure(`${reason}: ${(error as Error).message}`, error) : undefined;
}

/** Per-frame problems: that frame cannot be analysed, the others can. */
export const FRAME_ERRORS = new Set(['InvalidImageFormatException', 'ImageTooLargeException', 'InvalidParameterException']);

