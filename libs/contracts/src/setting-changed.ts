import { Allow, IsInt, IsString, MaxLength, MinLength } from 'class-validator';
import { envelope, EventEnvelope } from './envelope';
import { Topic } from './topics';

/**
 * Payload of `scheduler.setting.changed.v1` (compacted, keyed by the setting key): a setting after a change, or as it
 * stands when a replica starts leading (stored or default), so the latest message of a key is the setting.
 */
export class SettingChangedPayload {
  @IsString() @MinLength(1) @MaxLength(128) key: string;
  /** The value as it was set (any JSON), or the default when it never was. */
  @Allow() value: unknown;
  /** The value the system acts on. */
  @IsInt() effectiveValue: number;
}

/** The message for a setting's current state, keyed by its key. */
export function settingChangedMessage(setting: SettingChangedPayload): {
  topic: Topic;
  key: string;
  value: EventEnvelope<SettingChangedPayload>;
} {
  return {
    topic: Topic.SettingChanged,
    key: setting.key,
    value: envelope('scheduler.setting.changed', setting),
  };
}
