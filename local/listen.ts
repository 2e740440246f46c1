import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local service listening on loopback. */
export interface Listening {
  url: string;
  port: number;
  /** Stops accepting and drops open (keep-alive) connections, so a stop never waits on idle clients. */
  close(): Promise<void>;
}

/** Starts `server` on 127.0.0.1 (never another interface: the twin holds biometric data); port 0 = any free port. */
export async function listenOnLoopback(server: Server, port = 0, host = '127.0.0.1'): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
