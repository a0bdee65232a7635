import { randomUUID } from 'node:crypto';
import { IsISO8601, IsInt, IsObject, IsOptional, IsString, IsUUID, Min, MinLength } from 'class-validator';

/** The JSON envelope every message value carries (DESIGN.md section 3). */
export class EventEnvelope<TPayload = unknown> {
  @IsUUID()
  id: string;

  @IsString()
  @MinLength(1)
  type: string;

  @IsInt()
  @Min(1)
  version: number;

  @IsISO8601({ strict: true })
  occurredAt: string;

  @IsOptional()
  @IsUUID()
  runId?: string;

  @IsObject()
  payload: TPayload;
}

export function envelope<T>(type: string, payload: T, runId?: string, occurredAt = new Date()): EventEnvelope<T> {
  return {
    id: randomUUID(),
    type,
    version: 1,
    occurredAt: occurredAt.toISOString(),
    ...(runId ? { runId } : {}),
    payload,
  };
}
