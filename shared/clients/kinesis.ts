import { KinesisClient } from '@aws-sdk/client-kinesis';
import { clientOptions } from './options';

export const kinesis = new KinesisClient(clientOptions);
