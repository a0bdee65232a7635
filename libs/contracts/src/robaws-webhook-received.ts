import { IsInt, IsISO8601, IsObject, IsString, Matches, MaxLength, Min, MinLength } from 'class-validator';
import { envelope, EventEnvelope } from './envelope';
import { Topic } from './topics';

/** The Robaws events the hub registers for and acts on. */
export const ROBAWS_CLIENT_WEBHOOK_EVENTS = ['client.created', 'client.updated'] as const;

/**
 * Payload of `crm.robaws.webhook.received.v1` (keyed by the client id, so one client's events stay in order): a signed
 * Robaws delivery the gateway accepted, with the full client record Robaws sent. crm-sync stores the record unless a
 * version at least as new is stored already.
 */
export class RobawsWebhookReceivedPayload {
  /** Robaws's delivery id (the same on each retry of one delivery). */
  @IsString() @MinLength(1) @MaxLength(64) deliveryId: string;
  @IsString() @Matches(/^[a-z-]+\.[a-z-]+$/) @MaxLength(64) event: string;
  @IsInt() @Min(1) clientId: number;
  /** The client as Robaws sent it (`data` of the delivery); its `id` is `clientId`. */
  @IsObject() record: Record<string, unknown>;
  @IsISO8601({ strict: true }) receivedAt: string;
}

/** A delivery as Robaws posts it: `{id, event, data}`, `data` the full client. */
export interface RobawsDeliveryBody {
  id: string;
  event: string;
  clientId: number;
  data: Record<string, unknown>;
}

/**
 * Reads a delivery's raw body: JSON `{id, event, data}` with a string id of at most 64 characters, an event type and
 * a client object with a positive integer id (a numeric string is accepted). Answers the problem otherwise; the
 * problem names fields, never values.
 */
export function parseRobawsDelivery(rawBody: Buffer | string):
  | { ok: true; delivery: RobawsDeliveryBody }
  | {
      ok: false;
      problem: string;
    } {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.isBuffer(rawBody) ? rawBody.toString('utf8') : rawBody);
  } catch {
    return { ok: false, problem: 'the body is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, problem: 'the body is not a JSON object' };
  const { id, event, data } = value as Record<string, unknown>;
  if (typeof id !== 'string' || id.length === 0 || id.length > 64)
    return { ok: false, problem: 'id: must be a string of 1 to 64 characters' };
  if (typeof event !== 'string' || !/^[a-z-]+\.[a-z-]+$/.test(event) || event.length > 64)
    return { ok: false, problem: 'event: must be an event type such as client.updated' };
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    return { ok: false, problem: 'data: must be an object' };
  const rawId = (data as Record<string, unknown>).id;
  const clientId = typeof rawId === 'string' && /^\d{1,10}$/.test(rawId) ? Number(rawId) : rawId;
  if (typeof clientId !== 'number' || !Number.isSafeInteger(clientId) || clientId < 1 || clientId > 2_147_483_647)
    return { ok: false, problem: 'data.id: must be a positive integer' };
  return { ok: true, delivery: { id, event, clientId, data: data as Record<string, unknown> } };
}

/** The message for an accepted delivery: keyed by the client id. */
export function robawsWebhookReceivedMessage(
  delivery: RobawsDeliveryBody,
  receivedAt: Date,
): { topic: Topic; key: string; value: EventEnvelope<RobawsWebhookReceivedPayload> } {
  return {
    topic: Topic.RobawsWebhookReceived,
    key: String(delivery.clientId),
    value: envelope(
      'crm.robaws.webhook.received',
      {
        deliveryId: delivery.id,
        event: delivery.event,
        clientId: delivery.clientId,
        record: delivery.data,
        receivedAt: receivedAt.toISOString(),
      },
      undefined,
      receivedAt,
    ),
  };
}
