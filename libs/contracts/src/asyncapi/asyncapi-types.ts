import { HubApp } from './topic-contracts';
import { JsonSchema } from './payload-schemas';

/** The shapes of the AsyncAPI 3.0 document, as far as this project writes them. */
export const ASYNCAPI_VERSION = '3.0.0';
/** The Kafka bindings' version (AsyncAPI 3.0's latest). */
export const KAFKA_BINDING = '0.5.0';

/** A type, not an interface, so a reference is also a JsonSchema. */
export type Ref = { $ref: string };

export interface AsyncApiMessage {
  name: string;
  title: string;
  summary: string;
  description?: string;
  contentType: string;
  headers: JsonSchema;
  payload: JsonSchema;
  bindings: { kafka: { key: JsonSchema; bindingVersion: string } };
  examples: Array<{ name: string; summary: string; headers?: Record<string, string>; payload: unknown }>;
}

export interface AsyncApiChannel {
  address: string;
  title: string;
  summary: string;
  description: string;
  messages: Record<string, Ref>;
  bindings: {
    kafka: {
      topic: string;
      topicConfiguration: { 'cleanup.policy': Array<'compact' | 'delete'> };
      bindingVersion: string;
    };
  };
}

export interface AsyncApiOperation {
  action: 'send' | 'receive';
  channel: Ref;
  summary: string;
  tags: Array<{ name: HubApp }>;
  messages: Ref[];
  bindings?: { kafka: { groupId: JsonSchema; clientId: JsonSchema; bindingVersion: string } };
}

/** The AsyncAPI 3.0 document of the hub's topics (the parts this project writes). */
export interface AsyncApiDocument {
  asyncapi: typeof ASYNCAPI_VERSION;
  info: { title: string; version: string; description: string };
  defaultContentType: string;
  servers: Record<string, { host: string; protocol: string; title: string; description: string; variables: object }>;
  channels: Record<string, AsyncApiChannel>;
  operations: Record<string, AsyncApiOperation>;
  components: { schemas: Record<string, JsonSchema>; messages: Record<string, AsyncApiMessage> };
}

export const ref = ($ref: string): Ref => ({ $ref });
