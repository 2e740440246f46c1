describe('processVideo handler', () => {
  beforeAll(() => {
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      PROCESSOR_STATE_TABLE: 'facewatch-test-processor-state',
      COLLECTION_ID: 'faces',
      CAMERA_RESOURCES: JSON.stringify({ 'front-door': { videoStream: 'v', dataStream: 'd', processor: 'p' } }),
      PROCESSOR_SAMPLING_FPS: '5',
    });
  });

  it('refuses an invocation that is not a worker event, saying which fields are wrong, without retrying it', async () => {
    const { handler } = await import('../../../functions/process-video/handler');
    const context = { functionName: 'facewatch-test-processVideo', getRemainingTimeInMillis: () => 60_000 };

    const outcome = await handler({ camera: 'front-door' }, context);

    expect(outcome).toEqual({ outcome: 'rejected', message: expect.stringContaining('sessionId') });
    expect((outcome as { message: string }).message).toContain('leaseToken');
  });

  it('fails at cold start with the variable to fix when the sampling rate is out of range', async () => {
    jest.resetModules();
    process.env.PROCESSOR_SAMPLING_FPS = '30';
    await expect(import('../../../functions/process-video/handler')).rejects.toThrow('PROCESSOR_SAMPLING_FPS is invalid: must be from 0.05 to 5 frames/s');
    process.env.PROCESSOR_SAMPLING_FPS = '5';
  });
});
