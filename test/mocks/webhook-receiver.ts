import { type MockControl, scriptedResponse } from "./control";

/**
 * A webhook receiver: POST /webhook-receiver/<name> records the delivery (raw body and the
 * webhook-* headers, so tests can verify the signature) under key `<name>`, then answers 200 —
 * or what a script for key `<name>` says (e.g. 500 twice, a 302 redirect). Each test uses its own
 * name, so tests sharing a namespace never see each other's deliveries.
 */
export async function webhookReceiver(request: Request, control: MockControl, path: string): Promise<Response> {
  const name = path.split("/")[1] ?? "";
  const raw = await request.text();
  const headers: Record<string, string> = {};
  request.headers.forEach((value, header) => {
    if (header.startsWith("webhook-") || header === "content-type" || header === "user-agent") headers[header] = value;
  });
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    body = null;
  }
  control.record({ provider: "webhook-receiver", path, key: name, body, raw, headers, at: Date.now() });
  const script = control.take(name);
  const scripted = script ? await scriptedResponse(script) : null;
  return scripted ?? Response.json({ received: true });
}
