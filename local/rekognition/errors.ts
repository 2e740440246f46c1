/** AWS-shaped service errors: `__type` + `Message`, HTTP status, as Rekognition returns them. */

export class RekognitionError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }

  toBody(): Record<string, string> {
    return { __type: this.type, Code: this.type, Message: this.message, message: this.message };
  }
}

export const invalidParameter = (msg = 'Request has invalid parameters') => new RekognitionError('InvalidParameterException', msg);
export const notFound = (msg: string) => new RekognitionError('ResourceNotFoundException', msg);
export const alreadyExists = (msg: string) => new RekognitionError('ResourceAlreadyExistsException', msg);
export const inUse = (msg: string) => new RekognitionError('ResourceInUseException', msg);
export const invalidImageFormat = (msg = 'Request has invalid image format') => new RekognitionError('InvalidImageFormatException', msg);
export const imageTooLarge = (msg = 'Image size is too large.') => new RekognitionError('ImageTooLargeException', msg);
export const invalidS3Object = (msg = 'Unable to get object metadata from S3. Check object key, region and/or access permissions.') =>
  new RekognitionError('InvalidS3ObjectException', msg);
export const invalidToken = (msg = 'Invalid pagination token.') => new RekognitionError('InvalidPaginationTokenException', msg);
export const limitExceeded = (msg: string) => new RekognitionError('LimitExceededException', msg);
export const internal = (msg = 'Internal server error') => new RekognitionError('InternalServerError', msg, 500);

/** The Coral framework's constraint errors (pattern, length, range), e.g. a bad ExternalImageId. */
export function validationError(problems: string[]): RekognitionError {
  const n = problems.length;
  return new RekognitionError('ValidationException', `${n} validation error${n > 1 ? 's' : ''} detected: ${problems.join('; ')}`);
}
