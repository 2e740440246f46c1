/** An error answered in AWS's REST-JSON shape (x-amzn-ErrorType header + JSON body with the message). */
export class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export const notFound = (message: string): ApiError => new ApiError('ResourceNotFoundException', message, 404);
export const invalidArgument = (message: string): ApiError => new ApiError('InvalidArgumentException', message, 400);
export const inUse = (message: string): ApiError => new ApiError('ResourceInUseException', message, 400);
