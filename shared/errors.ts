/**
 * One error hierarchy for the whole service: each class carries the HTTP status it maps to, so edges
 * (API handlers, batch handlers) match by class, never by message.
 */
export abstract class AppError extends Error {
  abstract readonly statusCode: number;
  abstract readonly code: string;
  constructor(
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The caller sent something invalid; the message says what to fix. */
export class ValidationError extends AppError {
  readonly statusCode = 400;
  readonly code = 'ValidationError';
}

export class UnauthorizedError extends AppError {
  readonly statusCode = 401;
  readonly code = 'Unauthorized';
}

export class NotFoundError extends AppError {
  readonly statusCode = 404;
  readonly code = 'NotFound';
}

/** The request conflicts with the current state (e.g. a processor mid-transition). */
export class ConflictError extends AppError {
  readonly statusCode = 409;
  readonly code = 'Conflict';
}

/**
 * Input that can never be processed, however often it is retried (a photo with no face, a record that
 * is not JSON). Batch handlers record and skip it instead of retrying.
 */
export class PermanentInputError extends AppError {
  readonly statusCode = 422;
  readonly code = 'UnprocessableInput';
}
