import type { Response } from 'express';

/**
 * Writes one chunk of a streamed reply, waiting for the socket to drain when its buffer is full, so memory stays
 * bounded however large the reply. Returns false when the client has gone away (stop producing).
 */
export async function writeChunk(res: Response, chunk: string): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return false;
  if (res.write(chunk)) return true;
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

/** An AbortSignal that fires when the reply's connection closes (the client disconnected or the reply ended). */
export function closeSignal(res: Response): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => controller.abort());
  return controller.signal;
}
