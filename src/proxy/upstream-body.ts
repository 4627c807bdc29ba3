/**
 * Reads an upstream body with a size cap and a deadline. Once the response headers have arrived the
 * fetch timeout no longer applies, so a broken or hostile upstream could otherwise send an endless
 * body (exhausting the isolate's memory) or stall it forever. Whatever is not read is cancelled,
 * which closes the upstream connection.
 */

export type BodyOutcome = "complete" | "too_large" | "timeout" | "broken";

export interface CappedBody {
  /** UTF-8 text of the bytes read (at most `maxBytes`). */
  text: string;
  outcome: BodyOutcome;
}

export async function readCapped(response: Response, maxBytes: number, timeoutMs: number): Promise<CappedBody> {
  const body = response.body;
  if (!body) return { text: "", outcome: "complete" };
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (Number.isInteger(declared) && declared >= 0) return readFramed(response, declared, maxBytes, timeoutMs);
  const reader = body.getReader();
  let outcome: BodyOutcome = "complete";
  // Cancelling resolves a pending read as done, so the loop below ends at the deadline.
  const timer = setTimeout(() => {
    outcome = "timeout";
    void reader.cancel().catch(() => undefined);
  }, timeoutMs);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (size + value.byteLength > maxBytes) {
        chunks.push(value.subarray(0, maxBytes - size));
        size = maxBytes;
        outcome = "too_large";
        break;
      }
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    if (outcome === "complete") outcome = "broken";
  } finally {
    clearTimeout(timer);
  }
  if (outcome !== "complete") await reader.cancel().catch(() => undefined);
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { text: new TextDecoder().decode(bytes), outcome };
}

/**
 * A body framed by Content-Length (the usual buffered answer): refused at once when declared too
 * large, else read in one native call — the HTTP layer never delivers more than the declared length.
 */
async function readFramed(response: Response, declared: number, maxBytes: number, timeoutMs: number): Promise<CappedBody> {
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    return { text: "", outcome: "too_large" };
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
  try {
    const result = await Promise.race([response.arrayBuffer(), deadline]);
    if (result === "timeout") {
      await response.body?.cancel().catch(() => undefined);
      return { text: "", outcome: "timeout" };
    }
    return { text: new TextDecoder().decode(result), outcome: "complete" };
  } catch {
    return { text: "", outcome: "broken" };
  } finally {
    clearTimeout(timer);
  }
}
