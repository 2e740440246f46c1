import { useState } from 'preact/hooks';

/** One operator action at a time: busy while it runs, its error kept to show, `after` on success. */
export function useAction(): {
  busy: boolean;
  failure?: Error;
  run: <T>(action: () => Promise<T>, after?: (result: T) => void) => Promise<void>;
} {
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Error>();
  async function run<T>(action: () => Promise<T>, after?: (result: T) => void) {
    setBusy(true);
    setFailure(undefined);
    try {
      after?.(await action());
    } catch (e) {
      setFailure(e as Error);
    } finally {
      setBusy(false);
    }
  }
  return { busy, failure, run };
}
